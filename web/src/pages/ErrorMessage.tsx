import { CombinedGraphQLErrors } from '@apollo/client/errors';

/** What went wrong, in words a shopper can act on; announced to screen readers. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const messages = CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.message) : [error instanceof Error ? error.message : String(error)];
  return (
    <div role="alert" className="error">
      {messages.map((m, i) => (
        <p key={i}>{m}</p>
      ))}
    </div>
  );
}
