#!/usr/bin/env python3
"""train_plain.py — the same training with no cairn code at all, for

    cairn run -p breast-cancer -- /usr/bin/python3 examples/sklearn/train_plain.py --learning-rate 0.2

`cairn run` records every parsed option as a param (defaults included, under
the names train.py records: learning_rate, n_estimators, ...), the code and
environment, and the `key=value` metric lines printed below.  The model and
plots are written to --out.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline  # noqa: E402


def main(argv=None):
    args = pipeline.parse_args(argv)
    X_train, X_valid, y_train, y_valid = pipeline.load_data(args)
    model = pipeline.train(args, X_train, y_train)
    train_auc = pipeline.staged_auc(model, X_train, y_train)
    valid_auc = pipeline.staged_auc(model, X_valid, y_valid)
    for i, (tr, va) in enumerate(zip(train_auc, valid_auc)):
        print("step=%d train_auc=%.6f valid_auc=%.6f" % (i, tr, va))
    final = pipeline.final_metrics(model, X_valid, y_valid)
    print(" ".join("%s=%.6f" % (k, v) for k, v in final.items()))  # final/valid_auc=...
    os.makedirs(args.out, exist_ok=True)
    for name, fig in (
        ("confusion_matrix.png", pipeline.confusion_figure(model, X_valid, y_valid)),
        ("roc.png", pipeline.roc_figure(model, X_valid, y_valid)),
    ):
        fig.savefig(os.path.join(args.out, name))
    pipeline.save_model(model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
