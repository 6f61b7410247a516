#!/usr/bin/env python3
"""tests/s3/s3gate.py — a gate in front of a test S3 server (s3rver) that
does what s3rver 3.7.1 does not: check SigV4 signatures, and deny writes.

s3rver checks that the access key id exists (InvalidAccessKeyId) but
accepts any SigV4 signature ("Signature version 4 calculation is
unimplemented", its lib/middleware/authentication.js), and has no bucket
policies.  So the tests put this proxy between cairn and s3rver:

  s3gate.py --upstream http://127.0.0.1:PORT --secret S3RVER [--deny-writes]
            [--data DIR] [--log FILE] [--fail-part N] [--bad-answer create|complete]

It prints "listening PORT" on stdout, then forwards every request whose
signature it verified (Authorization header, or a presigned URL's query;
the payload hash is x-amz-content-sha256, and a hex one must be the
SHA-256 of the body) and answers S3's own error XML otherwise:
SignatureDoesNotMatch, AccessDenied (an expired presigned URL; a PUT,
POST or DELETE under --deny-writes), XAmzContentSHA256Mismatch.  HMAC and
SHA-256 are Python's hmac and hashlib.

Multipart uploads: s3rver 3.7.1 has CreateMultipartUpload, UploadPart and
CompleteMultipartUpload but answers AbortMultipartUpload (DELETE
?uploadId=) with 405, so the gate does that one itself: with --data (s3rver's
directory) it removes the upload's folder (BUCKET/._S3rver_uploads/ID, its
parts) and answers 204, or 404 NoSuchUpload.  --fail-part N answers
UploadPart of part N with 500 InternalError (every try: a service that keeps
failing mid-upload).  --bad-answer create answers CreateMultipartUpload
with 200 and an UploadId no client may use; --bad-answer complete answers
CompleteMultipartUpload with 200 and an <Error> body (as S3 may), both
without asking s3rver.  --log FILE appends one line per request:
"METHOD PATH?QUERY STATUS".  Bodies are held in memory: for
tests, not for the benchmark.
"""
import argparse
import datetime
import os
import shutil
import hashlib
import hmac
import http.client
import http.server
import sys
import urllib.parse


def error(handler, status, code, msg):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message></Error>' % (code, msg)).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def signing_key(secret, day, region, service):
    k = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signature(secret, scope, date, canonical):
    day, region, service, _ = scope.split("/")
    sts = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(signing_key(secret, day, region, service), sts.encode(),
                    hashlib.sha256).hexdigest()


def canonical(method, path, query_pairs, headers, signed, payload):
    q = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(query_pairs))
    h = "".join("%s:%s\n" % (n, " ".join(headers.get(n, "").split())) for n in signed)
    return "\n".join([method, path, q, h, ";".join(signed), payload])


class Gate(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_response(self, code, message=None):
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write("%s %s %d\n" % (self.command, self.path, code))
        super().send_response(code, message)

    def abort_upload(self, q):
        uid = q["uploadId"]
        bucket = urllib.parse.urlsplit(self.path).path.split("/")[1]
        d = os.path.join(self.server.data or "", bucket, "._S3rver_uploads", uid)
        if not self.server.data or "/" in uid or uid in ("", ".", "..") or not os.path.isdir(d):
            return error(self, 404, "NoSuchUpload", "The specified upload does not exist.")
        shutil.rmtree(d)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def verify(self, body):
        u = urllib.parse.urlsplit(self.path)
        pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        q = dict(pairs)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "X-Amz-Signature" in q:
            scope = q["X-Amz-Credential"].split("/", 1)[1]
            signed = q["X-Amz-SignedHeaders"].split(";")
            date = q["X-Amz-Date"]
            t = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ")
            if datetime.datetime.utcnow() > t + datetime.timedelta(seconds=int(q["X-Amz-Expires"])):
                return ("AccessDenied", "Request has expired")
            rest = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
            c = canonical(self.command, u.path, rest, headers, signed, "UNSIGNED-PAYLOAD")
            given = q["X-Amz-Signature"]
        else:
            auth = headers.get("authorization", "")
            if not auth.startswith("AWS4-HMAC-SHA256 "):
                return ("AccessDenied", "Anonymous access is forbidden for this operation")
            parts = dict(p.strip().split("=", 1) for p in auth[17:].split(","))
            scope = parts["Credential"].split("/", 1)[1]
            signed = parts["SignedHeaders"].split(";")
            date = headers.get("x-amz-date", "")
            payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
            if len(payload) == 64 and payload != hashlib.sha256(body).hexdigest():
                return ("XAmzContentSHA256Mismatch",
                        "The provided 'x-amz-content-sha256' header does not match what was computed.")
            c = canonical(self.command, u.path, pairs, headers, signed, payload)
            given = parts["Signature"]
        if not hmac.compare_digest(signature(self.server.secret, scope, date, c), given):
            return ("SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.")
        return None

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.server.deny_writes and self.command in ("PUT", "POST", "DELETE"):
            return error(self, 403, "AccessDenied", "Access Denied")
        bad = self.verify(body)
        if bad:
            return error(self, 403, bad[0], bad[1])
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query,
                                        keep_blank_values=True))
        if self.command == "DELETE" and "uploadId" in q:
            return self.abort_upload(q)
        if self.command == "POST" and self.server.bad_answer == ("create" if "uploads" in q
                                                                  else "complete"):
            body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>'
                    b'<UploadId>../x&amp;y</UploadId></InitiateMultipartUploadResult>'
                    if "uploads" in q else
                    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                    b'<Message>We encountered an internal error.</Message></Error>')
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        if (self.command == "PUT" and self.server.fail_part
                and q.get("partNumber") == str(self.server.fail_part)):
            return error(self, 500, "InternalError", "We encountered an internal error.")
        up = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port,
                                        timeout=60)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("connection", "expect", "content-length")}
        hdrs["Content-Length"] = str(len(body))
        up.request(self.command, self.path, body=body, headers=hdrs)
        r = up.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)) if self.command != "HEAD"
                         else r.getheader("Content-Length", "0"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--secret", default="S3RVER")
    ap.add_argument("--deny-writes", action="store_true")
    ap.add_argument("--data")
    ap.add_argument("--log")
    ap.add_argument("--fail-part", type=int, default=0)
    ap.add_argument("--bad-answer", choices=("create", "complete"))
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gate)
    u = urllib.parse.urlsplit(a.upstream)
    srv.upstream_host, srv.upstream_port = u.hostname, u.port
    srv.secret, srv.deny_writes = a.secret, a.deny_writes
    srv.data, srv.log, srv.fail_part = a.data, a.log, a.fail_part
    srv.bad_answer = a.bad_answer
    print("listening", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
