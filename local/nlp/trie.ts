// Token trie for longest-match dictionary search. Keys are normalised tokens (see text.ts), so one
// walk per start token finds every term that starts there, in time linear in the term length.
import { isTransparent, type Token } from './text.js';

export interface TrieNode<T> {
  next: Map<string, TrieNode<T>>;
  values: T[];
}

export function newTrie<T>(): TrieNode<T> {
  return { next: new Map(), values: [] };
}

export function trieInsert<T>(root: TrieNode<T>, key: readonly string[], value: T): void {
  if (key.length === 0) return;
  let node = root;
  for (const part of key) {
    let child = node.next.get(part);
    if (child === undefined) {
      child = newTrie<T>();
      node.next.set(part, child);
    }
    node = child;
  }
  node.values.push(value);
}

export interface TrieHit<T> {
  /** First and last token (inclusive) of the match. */
  readonly first: number;
  readonly last: number;
  readonly values: readonly T[];
}

/**
 * All matches starting at token `first`, longest first. Hyphens are skipped; a match never crosses
 * a line break or a sentence boundary.
 */
export function trieMatchesAt<T>(root: TrieNode<T>, tokens: readonly Token[], first: number): TrieHit<T>[] {
  const hits: TrieHit<T>[] = [];
  const start = tokens[first];
  if (start === undefined || isTransparent(start)) return hits;
  let node: TrieNode<T> | undefined = root;
  for (let k = first; k < tokens.length && node !== undefined; k++) {
    const t = tokens[k] as Token;
    if (k > first && (t.lineBreakBefore || t.sentence !== start.sentence)) break;
    if (k > first && isTransparent(t)) continue;
    node = node.next.get(t.norm);
    if (node !== undefined && node.values.length > 0) hits.push({ first, last: k, values: node.values });
  }
  return hits.reverse();
}
