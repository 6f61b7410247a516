// tags.js — a run's tags as chips that can be removed, plus an inline box to
// add one.  Changes go to the API at once; onChange gets the new tag list.
import { h, clear } from './dom.js';
import { api, enc, encPath } from './api.js';
import { toast } from './main.js';

export function tagEditor(run, onChange) {
  const el = h('span', { class: 'tags', 'data-testid': 'tags' });
  const draw = () => {
    clear(el);
    for (const t of run.tags || []) {
      el.appendChild(h('span', { class: 'tag' }, t, h('button', {
        type: 'button', class: 'x', title: 'remove tag ' + t, 'aria-label': 'remove tag ' + t,
        onclick: async (e) => {
          e.stopPropagation();
          try {
            const r = await api(`/api/v1/runs/${enc(run.id)}/tags/${encPath(t)}`, { method: 'DELETE' });
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
      const input = h('input', { class: 'tag-input', placeholder: 'tag', 'aria-label': 'new tag', onkeydown: async (ev) => {
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
