"""pipeline.py — the machine learning of the example, shared by train.py
(tracked with the cairn API) and train_plain.py (no cairn code, tracked from
outside by `cairn run`).  Gradient boosting on the breast-cancer dataset that
scikit-learn ships (569 tumours, 30 features), so nothing is downloaded.
"""

import argparse
import os
import pickle

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score, roc_curve  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    """The hyperparameters: the YAML config (--config) gives the defaults and
    the options override them, so the parsed namespace holds every value the
    training uses, under one name each (learning_rate, n_estimators, ...).
    That namespace is what train.py records with cairn.init(params=args), and
    what `cairn run` records of train_plain.py, so both name them alike."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=os.path.join(HERE, "config.yaml"), help="YAML config")
    known, _ = pre.parse_known_args(argv)
    with open(known.config) as f:
        cfg = yaml.safe_load(f)
    m = cfg["model"]
    p = argparse.ArgumentParser(
        parents=[pre], description="Train gradient boosting on the breast-cancer data."
    )
    p.add_argument("--learning-rate", type=float, default=m["learning_rate"], help="shrinkage")
    p.add_argument("--n-estimators", type=int, default=m["n_estimators"], help="boosting iterations")
    p.add_argument("--max-depth", type=int, default=m["max_depth"], help="tree depth")
    p.add_argument("--subsample", type=float, default=m["subsample"], help="row fraction per tree")
    p.add_argument("--min-samples-leaf", type=int, default=m["min_samples_leaf"], help="leaf size")
    p.add_argument("--valid-fraction", type=float, default=cfg["data"]["valid_fraction"],
                   help="held-out fraction")
    p.add_argument("--seed", type=int, default=cfg["seed"], help="split and model seed")
    p.add_argument("--out", default="out", help="directory for the model and plots")
    p.add_argument("--project", default="breast-cancer", help="cairn project (train.py)")
    return p.parse_args(argv)


def dataset_path():
    """The CSV file scikit-learn loads the dataset from (its digest versions the data)."""
    return os.path.join(os.path.dirname(datasets.__file__), "data", "breast_cancer.csv")


def load_data(args):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=args.valid_fraction, random_state=args.seed, stratify=y)


def train(args, X_train, y_train):
    model = GradientBoostingClassifier(
        learning_rate=args.learning_rate,
        n_estimators=args.n_estimators,
        max_depth=args.max_depth,
        subsample=args.subsample,
        min_samples_leaf=args.min_samples_leaf,
        random_state=args.seed,
    )
    return model.fit(X_train, y_train)


def staged_auc(model, X, y):
    """AUC after each boosting iteration."""
    return [roc_auc_score(y, p[:, 1]) for p in model.staged_predict_proba(X)]


def final_metrics(model, X, y):
    proba = model.predict_proba(X)[:, 1]
    pred = (proba >= 0.5).astype(int)
    return {
        "final/valid_auc": roc_auc_score(y, proba),
        "final/valid_accuracy": accuracy_score(y, pred),
        "final/valid_log_loss": log_loss(y, proba),
    }


def confusion_figure(model, X, y):
    cm = confusion_matrix(y, model.predict(X))
    fig, ax = plt.subplots(figsize=(3.6, 3.2), dpi=100)
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="black" if v < cm.max() / 2 else "white")
    ax.set_xticks([0, 1], ["malignant", "benign"])
    ax.set_yticks([0, 1], ["malignant", "benign"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (valid)")
    fig.tight_layout()
    return fig


def roc_figure(model, X, y):
    fpr, tpr, _ = roc_curve(y, model.predict_proba(X)[:, 1])
    fig, ax = plt.subplots(figsize=(3.6, 3.2), dpi=100)
    ax.plot(fpr, tpr, label="AUC %.4f" % roc_auc_score(y, model.predict_proba(X)[:, 1]))
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC (valid)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def save_model(model, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.pkl")
    with open(path, "wb") as f:
        pickle.dump(model, f)
    return path
