/*
 * tests/unit/test-s3.c — the S3 client's pieces that need no server: URI
 * parsing (and refusing credentials in a URI), the ~/.aws files, and the
 * presigned URL against AWS's own worked example ("Authenticating Requests:
 * Using Query Parameters", examplebucket/test.txt, 2013-05-24), so the
 * SigV4 query signature is checked against a published answer; the
 * strict reader of the service's XML answers and ETag header (s3xml.c)
 * on AWS's documented answers and on malformed ones.  The round trips
 * against a real S3 server are tests/e2e/s3.t.
 */
#include "unit.h"

#include <sys/stat.h>

#include "lib/internal.h"
#include "lib/store/s3/s3.h"
#include "lib/store/s3/s3xml.h"

static void test_uri(void **state)
{
	char *b, *p;
	assert_int_equal(s3_uri_parse("s3://my-bucket/a/b/", &b, &p), 0);
	assert_string_equal(b, "my-bucket");
	assert_string_equal(p, "a/b");
	free(b);
	free(p);
	assert_int_equal(s3_uri_parse("s3://my-bucket", &b, &p), 0);
	assert_string_equal(p, "");
	free(b);
	free(p);
	assert_int_equal(s3_uri_parse("s3://AK:secret123@my-bucket/x", &b, &p), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "carries credentials"));
	assert_null(strstr(cairn_error_last(), "secret123"));
	const char *bad[] = {"s3://",           "s3://ab/x",      "s3://Bad_Bucket/x",
	                     "s3://b-ok/a//b",  "s3://b-ok/../x", "s3://b-ok/a b",
	                     "s3://b-ok/x?y=1", "http://b/x",     "s3://-bad/x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(s3_uri_parse(bad[i], &b, &p), CAIRN_EINVALID);
}

static void test_presign_aws_example(void **state)
{
	s3_sign_info si = {.host = "examplebucket.s3.amazonaws.com",
	                   .path = "/test.txt",
	                   .url_base = "https://examplebucket.s3.amazonaws.com",
	                   .region = "us-east-1",
	                   .key_id = "AKIAIOSFODNN7EXAMPLE",
	                   .secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
	char *url = NULL;
	assert_int_equal(s3_presign_url(&si, 1369353600, 86400, NULL, NULL, &url), 0);
	assert_string_equal(
	    url,
	    "https://examplebucket.s3.amazonaws.com/test.txt"
	    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
	    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
	    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	free(url);
	assert_int_equal(s3_presign_url(&si, 1369353600, 0, NULL, NULL, &url), CAIRN_EINVALID);
	assert_int_equal(s3_presign_url(&si, 1369353600, 604801, NULL, NULL, &url), CAIRN_EINVALID);
}

static void test_config_files(void **state)
{
	char *home = unit_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/.aws", home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.aws/credentials", home);
	FILE *f = fopen(path, "w");
	fputs("# comment\n[default]\naws_access_key_id=DEF\naws_secret_access_key = defsecret\n"
	      "[ci]\n aws_access_key_id = CIKEY \naws_secret_access_key=cisecret\r\n"
	      "aws_session_token=citoken\n",
	      f);
	fclose(f);
	snprintf(path, sizeof path, "%s/.aws/config", home);
	f = fopen(path, "w");
	fputs("[default]\nregion=eu-west-1\n[profile ci]\nregion = ap-south-1\n", f);
	fclose(f);
	setenv("HOME", home, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_PROFILE");
	s3_config c;
	assert_int_equal(s3_config_load(&c, "s3://b-ok/x"), 0);
	assert_string_equal(c.key_id, "DEF");
	assert_string_equal(c.secret, "defsecret");
	assert_null(c.token);
	assert_string_equal(c.region, "eu-west-1");
	s3_config_free(&c);
	setenv("AWS_PROFILE", "ci", 1);
	assert_int_equal(s3_config_load(&c, "s3://b-ok/x"), 0);
	assert_string_equal(c.key_id, "CIKEY");
	assert_string_equal(c.secret, "cisecret");
	assert_string_equal(c.token, "citoken");
	assert_string_equal(c.region, "ap-south-1");
	s3_config_free(&c);
	setenv("AWS_PROFILE", "nobody", 1);
	assert_int_equal(s3_config_load(&c, "s3://b-ok/x"), CAIRN_EINVALID);
	assert_non_null(strstr(cairn_error_last(), "no credentials"));
	s3_config_free(&c);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_REGION", "us-west-2", 1);
	assert_int_equal(s3_config_load(&c, "s3://b-ok/x"), 0);
	assert_string_equal(c.key_id, "ENVKEY");
	assert_string_equal(c.region, "us-west-2");
	s3_config_free(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_REGION");
	unsetenv("AWS_PROFILE");
	unit_rmrf(home);
	free(home);
}

static int xt(const char *doc, const char *path, char *out, size_t n)
{
	return s3_xml_text(doc, strlen(doc), path, out, n);
}

static void test_xml(void **state)
{
	char v[256];
	/* AWS's CreateMultipartUpload answer (its API reference's example) */
	const char *init = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                   "<InitiateMultipartUploadResult "
	                   "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	                   "  <Bucket>example-bucket</Bucket>\n  <Key>example-object</Key>\n"
	                   "  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
	                   "</UploadId>\n</InitiateMultipartUploadResult>";
	assert_int_equal(xt(init, "InitiateMultipartUploadResult/UploadId", v, sizeof v), 1);
	assert_string_equal(v, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
	assert_true(s3_token_ok(v, 1024));
	assert_int_equal(xt(init, "InitiateMultipartUploadResult", NULL, 0), 1);
	assert_int_equal(xt(init, "InitiateMultipartUploadResult/Nope", v, sizeof v), 0);
	assert_int_equal(xt(init, "Error/Code", v, sizeof v), 0);
	assert_int_equal(xt(init, "UploadId", v, sizeof v), 0); /* from the root only */
	assert_int_equal(xt(init, "InitiateMultipartUploadResult/UploadId", v, 8), -1);
	/* entities, an empty element, nested text not mixed in */
	assert_int_equal(xt("<E><Code>A&amp;B&#x41;&#66;</Code><M/></E>", "E/Code", v, sizeof v),
	                 1);
	assert_string_equal(v, "A&BAB");
	assert_int_equal(xt("<E><M/></E>", "E/M", v, sizeof v), 1);
	assert_string_equal(v, "");
	assert_int_equal(xt("<E>a<X>b</X>c</E>", "E", v, sizeof v), 1);
	assert_string_equal(v, "ac");
	/* an Error answer of a 200 CompleteMultipartUpload */
	assert_int_equal(xt("<Error><Code>InternalError</Code></Error>", "Error/Code", v, sizeof v),
	                 1);
	assert_string_equal(v, "InternalError");
	/* not documents this reader accepts */
	static const char *bad[] = {
	    "",
	    "<E>",
	    "<E></F>",
	    "<E><C>x</E></C>",
	    "<E></E><E></E>",
	    "<E></E>junk",
	    "text<E></E>",
	    "<E>&bogus;</E>",
	    "<E>&#0;</E>",
	    "<E>&#x110000;</E>",
	    "<E>a\x01b</E>",
	    "<E a=1></E>",
	    "<E a=\"<\"></E>",
	    "<E><!-- c --></E>",
	    "<E><![CDATA[x]]></E>",
	    "<!DOCTYPE E><E></E>",
	    "<?xml version=\"1.0\"?><?pi?><E></E>",
	    "<E\"></E>",
	    "<1E></1E>",
	    "<E/",
	    "<?xml version=\"1.0\"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(xt(bad[i], "E", v, sizeof v), -1);
	/* depth: 16 levels are fine, 17 are not */
	char deep[256] = "", *d = deep;
	for (int i = 0; i < 17; i++)
		d += sprintf(d, "<a>");
	for (int i = 0; i < 17; i++)
		d += sprintf(d, "</a>");
	assert_int_equal(xt(deep, "a", v, sizeof v), -1);
	assert_int_equal(xt(deep + 3, "a", NULL, 0), -1);
	assert_int_equal(s3_xml_text(deep + 3, strlen(deep) - 7, "a", NULL, 0), 1);
	/* a document's length is what is read, not up to a NUL */
	assert_int_equal(s3_xml_text("<E>x</E>", 5, "E", v, sizeof v), -1);
	/* tokens */
	assert_false(s3_token_ok("", 10));
	assert_false(s3_token_ok("a&b", 10));
	assert_false(s3_token_ok("a/b", 10));
	assert_false(s3_token_ok("abcdef", 5));
	assert_true(s3_token_ok("2~a_b-c.d", 10));
}

static void test_etag(void **state)
{
	char v[140];
	const char *l = "ETag: \"b54357faf0632cce46e942fa68356b38\"\r\n";
	assert_int_equal(s3_header_etag(l, strlen(l), v, sizeof v), 1);
	assert_string_equal(v, "\"b54357faf0632cce46e942fa68356b38\"");
	l = "etag:abc-2\r\n";
	assert_int_equal(s3_header_etag(l, strlen(l), v, sizeof v), 1);
	assert_string_equal(v, "abc-2");
	l = "Content-Length: 0\r\n";
	assert_int_equal(s3_header_etag(l, strlen(l), v, sizeof v), 0);
	static const char *bad[] = {"ETag: \r\n",         "ETag: \"\"\r\n", "ETag: \"a<b\"\r\n",
	                            "ETag: \"a\"b\"\r\n", "ETag: a b\r\n",  "ETag: \"\r\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(s3_header_etag(bad[i], strlen(bad[i]), v, sizeof v), -1);
	char big[200] = "ETag: ";
	memset(big + 6, 'a', 129);
	assert_int_equal(s3_header_etag(big, strlen(big), v, sizeof v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri),          cmocka_unit_test(test_presign_aws_example),
	    cmocka_unit_test(test_config_files), cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_etag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
