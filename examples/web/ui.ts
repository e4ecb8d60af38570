// Pieces of the page shared by the demo and its teach panel: element lookup, ranked scores with bars, error text.
import { MobileNetError } from 'mobilenet-wasm/core';

/** The page's element of that id, as the type the caller knows it is. */
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface Scored {
  label: string;
  score: number;
}

export function renderScores(list: HTMLOListElement, items: readonly Scored[]): void {
  list.replaceChildren(
    ...items.map(({ label, score }) => {
      const li = document.createElement('li');
      li.style.setProperty('--score', `${(score * 100).toFixed(1)}%`);
      const name = document.createElement('span');
      name.className = 'label';
      name.textContent = label;
      const value = document.createElement('span');
      value.className = 'score';
      value.textContent = `${(score * 100).toFixed(1)}%`;
      li.append(name, value);
      return li;
    }),
  );
}

/** A failure as the page shows it: a MobileNetError with its code, anything else by its message. */
export function errorText(e: unknown): string {
  return e instanceof MobileNetError ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
}
