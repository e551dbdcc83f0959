// Moved to src/settings/source-ranges.ts: settings validate `allowFrom` while loading, and settings
// may not import a higher layer. Kept so imports written against the old place still resolve.
export { parseSourceRange, rangeContains, ufwSpelling, type SourceRange } from '../settings/source-ranges.ts';
