// Replaces a generated section of a Markdown file: everything between `<!-- NAME:start -->` and
// `<!-- NAME:end -->` becomes BODY. Used by the bench and reproduction scripts' --write.
import { readFileSync, writeFileSync } from 'node:fs';

export function writeBetweenMarkers(file, name, body) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const doc = readFileSync(file, 'utf8');
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} lacks the markers ${start} … ${end}`);
  writeFileSync(file, `${doc.slice(0, a)}${start}\n${body}\n${doc.slice(b)}`);
}
