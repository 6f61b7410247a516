// login.js — the login view of a server that requires tokens
// (docs/internals/auth.md).  The token typed here is sent once, to
// POST /api/v1/session, which answers with an HttpOnly session cookie the
// page cannot read and the session's CSRF token (api.js keeps it for
// writes); the token itself is never stored by the page.  The URL does not
// change while the view is shown, so after logging in the page the user
// came for (a shared link) is drawn, not a start page.
import { h, clear } from './dom.js';
import { login } from './api.js';

export function loginView(main, onDone, message) {
  clear(main);
  const input = h('input', {
    id: 'login-token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'cairn_…', 'aria-label': 'token', size: 48,
  });
  const status = h('p', { class: 'login-error', role: 'alert' }, message || '');
  const submit = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Log in');
  const form = h('form', { class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    status.textContent = '';
    try {
      await login(input.value.trim());
      input.value = '';
      onDone();
    } catch (err) {
      status.textContent = err.message;
      submit.disabled = false;
      input.focus();
    }
  } },
  h('h1', null, 'Log in to cairn'),
  h('p', null, 'This server needs a token. Ask its admin for one, or make one with ',
    h('code', null, 'cairn token create --scope read'), '.'),
  h('label', { for: 'login-token' }, 'Token'),
  input, submit, status);
  main.appendChild(form);
  input.focus();
}
