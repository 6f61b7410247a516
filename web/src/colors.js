// colors.js — the one colour of each run on a page.  A page numbers its runs
// (the compare page in legend order, the run page has one) and every view
// that draws a run takes its colour from runColor(i): chart lines, legend
// chips, table swatches and parallel-coordinates lines, so a run is the same
// colour wherever it appears (tests/browser/layout.test.mjs checks the
// parallel coordinates against the legend).

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2',
  '#ca8a04', '#db2777', '#4b5563', '#65a30d', '#7c3aed', '#0d9488'];

export function runColor(i) {
  return PALETTE[i % PALETTE.length];
}
