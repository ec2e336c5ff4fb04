import PDFDocument from 'pdfkit';

/**
 * pdfkit builds a standard font's metrics afresh for every document: the
 * glyph widths and, for Helvetica, some 2,700 kerning pairs keyed by glyph
 * names. For a one-page invoice that was about a third of its rendering time
 * (two fonts a document). The metrics never change, so each document here
 * gets its fonts as light copies of one font object built once per process:
 * a copy shares the metrics and has its own document, id and PDF object.
 *
 * This reaches into two of pdfkit's internals (`_fontFamilies`, the fonts a
 * document has opened by name, and `_fontCount`, which numbers them). When a
 * pdfkit release no longer has them, nothing is preloaded and pdfkit opens
 * its fonts itself, as before; the test that compares a document's bytes
 * with and without the copies says whether the copies still draw the same.
 */

type StandardFontName = 'Helvetica' | 'Helvetica-Bold';

interface FontInternals {
  document: unknown;
  id: string;
  dictionary?: unknown;
  embedded?: boolean;
}

interface DocumentInternals {
  _fontFamilies?: Record<string, FontInternals>;
  _fontCount?: number;
  _font?: FontInternals | null;
}

const prototypes = new Map<StandardFontName, FontInternals>();

/** The font as pdfkit opens it, once per process (from a scratch document that is never written). */
function prototypeOf(name: StandardFontName): FontInternals | undefined {
  let font = prototypes.get(name);
  if (!font) {
    font = (new PDFDocument({ font: name }) as unknown as DocumentInternals)._font ?? undefined;
    if (font) prototypes.set(name, font);
  }
  return font;
}

/**
 * A PDFDocument whose standard fonts `fonts` are already open, in that order
 * (as pdfkit would number them: the first is the default font, F1). Pass the
 * fonts the document uses; any other font is opened by pdfkit as usual.
 */
export function documentWithSharedFonts(options: PDFKit.PDFDocumentOptions, fonts: readonly [StandardFontName, ...StandardFontName[]]): PDFKit.PDFDocument {
  const doc = new PDFDocument({ ...options, font: null as unknown as string });
  const internals = doc as unknown as DocumentInternals;
  if (typeof internals._fontFamilies !== 'object' || internals._fontFamilies === null || typeof internals._fontCount !== 'number') {
    return doc.font(fonts[0]);
  }
  for (const name of fonts) {
    const shared = prototypeOf(name);
    if (!shared || internals._fontFamilies[name]) continue;
    const font: FontInternals = Object.create(Object.getPrototypeOf(shared) as object);
    Object.assign(font, shared, { document: doc, id: `F${++internals._fontCount}`, dictionary: undefined, embedded: false });
    internals._fontFamilies[name] = font;
  }
  return doc.font(fonts[0]);
}
