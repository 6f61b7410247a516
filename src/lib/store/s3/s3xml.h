/*
 * lib/store/s3/s3xml.h — the few things the S3 client reads out of the
 * service's answers, which it does not trust: a text element of a small XML
 * document (an UploadId, an error's Code), an ETag header, and whether a
 * string is safe to put in a query or an XML body unescaped.
 *
 * s3_xml_text reads the whole document strictly and within bounds: one
 * root element after an optional <?xml …?> declaration and whitespace;
 * elements with attributes; text with the five named entities and numeric
 * references; no comments, CDATA, DOCTYPE or processing instructions
 * inside; matching end tags; at most S3_XML_DEPTH levels; nothing but
 * whitespace after the root.  Anything else is not an answer the client
 * acts on.  No allocation, no recursion: safe on any bytes (fuzzed:
 * tests/fuzz/fuzz-s3xml.c).
 *
 * Thread-safety: pure functions.
 */
#ifndef CAIRN_LIB_STORE_S3_S3XML_H
#define CAIRN_LIB_STORE_S3_S3XML_H

#include <stdbool.h>
#include <stddef.h>

#define S3_XML_DEPTH 16

/* The text directly inside the first element at path ("Root/Child/…",
 * names matched exactly from the root) of doc[0..len), entities decoded,
 * into out (NUL-terminated).  1 when found, 0 when the document is
 * well-formed but has no such element, -1 when doc is not a document this
 * reader accepts, or the text does not fit in outn - 1 bytes or holds a
 * NUL or a control character.  out NULL: only whether the element is
 * there. */
int s3_xml_text(const char *doc, size_t len, const char *path, char *out, size_t outn);

/* A header line "ETag: value\r\n" (name in any case): 1 with the value
 * (quotes kept) in out, 0 when the line is another header, -1 when it is
 * an ETag that is not 1..128 of [A-Za-z0-9._~-], optionally in double
 * quotes. */
int s3_header_etag(const char *line, size_t len, char *out, size_t outn);

/* s is 1..max characters of [A-Za-z0-9._~-] (an UploadId the client puts in
 * a query as it is). */
bool s3_token_ok(const char *s, size_t max);

#endif
