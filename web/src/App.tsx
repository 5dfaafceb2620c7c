// The layout and the routes. Each page lives in pages/ and uses only the typed operations.
import { useApolloClient } from '@apollo/client/react';
import { useEffect, useRef } from 'react';
import { useCart } from './cart.js';
import { useKeyboardInput } from './keyboard-input.js';
import { CartPage } from './pages/CartPage.js';
import { LoginPage, RegisterPage } from './pages/AccountPages.js';
import { OrdersPage } from './pages/OrdersPage.js';
import { ProductListPage } from './pages/ProductListPage.js';
import { ProductPage } from './pages/ProductPage.js';
import { href, navigate, useLocation } from './router.js';
import { session, useSession } from './session.js';

function Page() {
  const { path } = useLocation();
  const product = /^\/products\/([^/]+)$/.exec(path);
  if (product) return <ProductPage id={decodeURIComponent(product[1]!)} />;
  switch (path) {
    case '/':
      return <ProductListPage />;
    case '/cart':
      return <CartPage />;
    case '/orders':
      return <OrdersPage />;
    case '/login':
      return <LoginPage />;
    case '/register':
      return <RegisterPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            <a href={href('/')}>Back to the shop</a>
          </p>
        </section>
      );
  }
}

export function App() {
  const viewer = useSession();
  const lines = useCart();
  const client = useApolloClient();
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);
  const keyboard = useKeyboardInput();
  const count = lines.reduce((n, l) => n + l.quantity, 0);
  // A new page moves focus to its content, as a page load would, for keyboard and screen-reader users;
  // the outline shows only when a key brought it there (a click or a first load shows none).
  const focusMain = (byKeyboard: boolean) => {
    if (!main.current) return;
    main.current.dataset.focusBy = byKeyboard ? 'keyboard' : 'pointer';
    main.current.focus();
  };
  useEffect(() => focusMain(keyboard.current), [path]);

  const logOut = async () => {
    session.clear();
    await client.clearStore(); // nothing of this user stays in the cache
    navigate('/');
  };

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), focusMain(e.detail === 0))}>
        Skip to content
      </a>
      <header>
        <nav aria-label="Main">
          <a className="brand" href={href('/')}>
            Commerce
          </a>
          <a href={href('/')}>Products</a>
          <a href={href('/cart')}>Cart ({count})</a>
          {viewer ? (
            <>
              <a href={href('/orders')}>My orders</a>
              <span className="viewer">{viewer.user.name}</span>
              <button type="button" className="link" onClick={() => void logOut()}>
                Log out
              </button>
            </>
          ) : (
            <>
              <a href={href('/login')}>Log in</a>
              <a href={href('/register')}>Register</a>
            </>
          )}
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page />
      </main>
    </>
  );
}
