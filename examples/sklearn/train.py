#!/usr/bin/env python3
"""train.py — the example training script, tracked with the cairn API.

    /usr/bin/python3 examples/sklearn/train.py --learning-rate 0.2 --n-estimators 150

Records the hyperparameters (the parsed options, whose defaults come from the
YAML config), the config file itself, the dataset's digest, train/valid AUC
after every boosting iteration, final metrics, a confusion matrix and a ROC
curve, and the pickled model.  Code and environment (git state, packages of
this interpreter) are captured by cairn.init().  Run under `cairn run`, the
same calls log into the wrapper's run, and the metrics it also prints are not
recorded twice.
"""

import os
import sys

import matplotlib.pyplot as plt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline  # noqa: E402

import cairn  # noqa: E402


def main(argv=None):
    args = pipeline.parse_args(argv)
    with cairn.init(project=args.project, params=args, tags=["sklearn", "gbm"]) as run:
        # the file as it was (its values are in the params already, as parsed)
        run.log_artifact(args.config, "config/" + os.path.basename(args.config), kind="config")
        run.log_dataset("breast_cancer", pipeline.dataset_path())
        X_train, X_valid, y_train, y_valid = pipeline.load_data(args)

        model = pipeline.train(args, X_train, y_train)
        train_auc = pipeline.staged_auc(model, X_train, y_train)
        valid_auc = pipeline.staged_auc(model, X_valid, y_valid)
        for i, (tr, va) in enumerate(zip(train_auc, valid_auc)):
            run.log_metrics({"train_auc": tr, "valid_auc": va}, step=i)

        final = pipeline.final_metrics(model, X_valid, y_valid)
        run.log_metrics(final)

        for key, fig in (
            ("diagnostics/confusion_matrix", pipeline.confusion_figure(model, X_valid, y_valid)),
            ("diagnostics/roc", pipeline.roc_figure(model, X_valid, y_valid)),
        ):
            run.log_image(key, fig)
            plt.close(fig)

        run.log_artifact(pipeline.save_model(model, args.out), "model.pkl")
        print("run %s (%s): final valid AUC %.4f" % (run.id[:8], run.name, final["final/valid_auc"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
