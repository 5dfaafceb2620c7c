// Log in and register. Both end with a token for this tab's session and go back where the
// shopper came from (?next=), or to the products.
import { useApolloClient, useMutation } from '@apollo/client/react';
import type { FormEvent } from 'react';
import { LoginDocument, RegisterDocument } from '../../../clients/generated/graphql.js';
import { href, navigate, useLocation } from '../router.js';
import { session, type Session } from '../session.js';
import { ErrorMessage } from './ErrorMessage.js';

/** Only a path inside the shop: `?next=` must not send anyone elsewhere. */
const nextPath = (params: URLSearchParams) => {
  const next = params.get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
};

function useStartSession() {
  const client = useApolloClient();
  const { params } = useLocation();
  return async (payload: Session) => {
    session.set(payload);
    await client.resetStore(); // what was read anonymously is read again as this user
    navigate(nextPath(params));
  };
}

export function LoginPage() {
  const [login, { loading, error }] = useMutation(LoginDocument);
  const start = useStartSession();
  const { params } = useLocation();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await login({ variables: { email: String(form.get('email')), password: String(form.get('password')) } }).catch(() => null);
    if (result?.data) await start(result.data.login);
  };
  return (
    <section aria-labelledby="login-title" className="narrow">
      <h1 id="login-title">Log in</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Email
          <input type="email" name="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={loading}>
          Log in
        </button>
      </form>
      <p>
        New here? <a href={href('/register', { next: params.get('next') ?? undefined })}>Create an account</a>
      </p>
    </section>
  );
}

export function RegisterPage() {
  const [register, { loading, error }] = useMutation(RegisterDocument);
  const start = useStartSession();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = { name: String(form.get('name')).trim(), email: String(form.get('email')).trim(), password: String(form.get('password')) };
    const result = await register({ variables: { input } }).catch(() => null);
    if (result?.data) await start(result.data.register);
  };
  return (
    <section aria-labelledby="register-title" className="narrow">
      <h1 id="register-title">Create an account</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Name
          <input name="name" autoComplete="name" required />
        </label>
        <label>
          Email
          <input type="email" name="email" autoComplete="email" required />
        </label>
        <label>
          Password <span className="muted">(8 to 200 characters)</span>
          <input type="password" name="password" autoComplete="new-password" minLength={8} maxLength={200} required />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={loading}>
          Create account
        </button>
      </form>
    </section>
  );
}
