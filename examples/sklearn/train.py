#!/usr/bin/env python3
"""train.py — the example training script, tracked with the cairn API.

    /usr/bin/python3 examples/sklearn/train.py --learning-rate 0.2 --n-estimators 150

Records the effective hyperparameters (the YAML config with the command-line
overrides), the config file itself, the dataset's digest, train/valid AUC
after every boosting iteration, final metrics, a confusion matrix and a ROC
curve, and the pickled model.  Code and environment (git state, packages of
this interpreter) are captured by cairn.init().  Run under `cairn run`, the
same calls log into the wrapper's run.
"""

import os
import sys

import matplotlib.pyplot as plt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline  # noqa: E402

import cairn  # noqa: E402


def main(argv=None):
    args = pipeline.parse_args(argv)
    cfg = pipeline.load_config(args)
    with cairn.init(
        project=args.project, config=args.config, params=cfg, tags=["sklearn", "gbm"]
    ) as run:
        run.log_dataset("breast_cancer", pipeline.dataset_path())
        X_train, X_valid, y_train, y_valid = pipeline.load_data(cfg)
        run.log_params({"data.n_train": len(y_train), "data.n_valid": len(y_valid)})

        model = pipeline.train(cfg, X_train, y_train)
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
        print("run %s (%s): valid_auc %.4f" % (run.id[:8], run.name, final["final/valid_auc"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
