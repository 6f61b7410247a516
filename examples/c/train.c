/*
 * examples/c/train.c — tracking a training loop from C with libcairn.
 *
 *   cc train.c $(pkg-config --cflags --libs cairn) -o train && ./train 0.1
 *
 * Fits y = 3x + 1 by gradient descent and logs params and the loss curve
 * into the store found as the CLI finds it (--store, $CAIRN_DIR, .cairn/ above).
 */
#include <stdio.h>
#include <stdlib.h>

#include <cairn.h>

int main(int argc, char **argv)
{
	double lr = argc > 1 ? atof(argv[1]) : 0.1;
	int epochs = argc > 2 ? atoi(argv[2]) : 50;
	cairn_store *store = NULL;
	cairn_run *run = NULL;
	int rc = 1;

	if (cairn_store_open(&store, NULL) != 0)
		goto done;
	cairn_run_options opts = CAIRN_RUN_OPTIONS_INIT;
	opts.project = "linefit-c";
	if (cairn_run_create(&run, store, &opts) != 0)
		goto done;
	cairn_value v = {CAIRN_TYPE_FLOAT, 0, lr, NULL};
	if (cairn_run_log_param(run, "lr", &v) != 0)
		goto done;
	v = (cairn_value){CAIRN_TYPE_INT, epochs, 0, NULL};
	if (cairn_run_log_param(run, "epochs", &v) != 0)
		goto done;

	double w = 0, b = 0;
	for (int e = 0; e < epochs; e++) {
		double gw = 0, gb = 0, loss = 0;
		for (int i = 0; i < 20; i++) {
			double x = i / 20.0, d = w * x + b - (3 * x + 1);
			loss += d * d / 20;
			gw += 2 * d * x / 20;
			gb += 2 * d / 20;
		}
		w -= lr * gw;
		b -= lr * gb;
		if (cairn_run_log_metric(run, "loss", loss, e, 0) != 0)
			goto done;
	}
	if (cairn_run_finish(run, CAIRN_STATUS_FINISHED, 0) != 0)
		goto done;
	printf("%s\n", cairn_run_id(run));
	rc = 0;
done:
	if (rc)
		fprintf(stderr, "error: %s\n", cairn_error_last());
	cairn_run_free(run);
	cairn_store_close(store);
	return rc;
}
