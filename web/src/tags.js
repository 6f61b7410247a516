// tags.js — a run's tags as chips that can be removed, plus an inline box to
// add one.  Changes go to the API at once; onChange gets the new tag list.
// A tag is bare ("baseline") or key=value ("team=vision", split at the first
// '='): the chip shows the key and the value apart, and removing it sends
// the key (the API removes a tag by its key, whatever its value).
import { h, clear } from './dom.js';
import { api, enc, encPath } from './api.js';
import { toast } from './main.js';

// "team=vision" -> { key: 'team', value: 'vision' }; "baseline" -> value null.
export function splitTag(t) {
  const i = t.indexOf('=');
  return i < 0 ? { key: t, value: null } : { key: t.slice(0, i), value: t.slice(i + 1) };
}

// The chip's text: the key, and a key/value tag's value beside it.
export function tagLabel(t) {
  const { key, value } = splitTag(t);
  return value === null ? [key] : [key, h('span', { class: 'tag-eq' }, '='), h('span', { class: 'tag-value' }, value)];
}

export function tagEditor(run, onChange) {
  const el = h('span', { class: 'tags', 'data-testid': 'tags' });
  const draw = () => {
    clear(el);
    for (const t of run.tags || []) {
      const { key } = splitTag(t);
      el.appendChild(h('span', { class: 'tag', title: t }, ...tagLabel(t), h('button', {
        type: 'button', class: 'x', title: 'remove tag ' + t, 'aria-label': 'remove tag ' + t,
        onclick: async (e) => {
          e.stopPropagation();
          try {
            const r = await api(`/api/v1/runs/${enc(run.id)}/tags/${encPath(key)}`, { method: 'DELETE' });
            run.tags = r.tags;
            onChange && onChange(r.tags);
            draw();
          } catch (err) {
            toast(err.message, true);
          }
        },
      }, '×')));
    }
    el.appendChild(h('button', { type: 'button', class: 'add', title: 'add a tag', 'aria-label': 'add tag', onclick: (e) => {
      e.stopPropagation();
      const input = h('input', { class: 'tag-input', placeholder: 'tag or key=value', 'aria-label': 'new tag', onkeydown: async (ev) => {
        if (ev.key === 'Escape') draw();
        if (ev.key !== 'Enter') return;
        const t = input.value.trim();
        if (!t) return draw();
        try {
          const r = await api(`/api/v1/runs/${enc(run.id)}/tags`, { method: 'POST', body: { tags: [t] } });
          run.tags = r.tags;
          onChange && onChange(r.tags);
          draw();
        } catch (err) {
          toast(err.message, true);
        }
      }, onblur: () => setTimeout(draw, 150) });
      el.replaceChild(input, e.currentTarget);
      input.focus();
    } }, '+'));
  };
  draw();
  return el;
}
