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
    p = argparse.ArgumentParser(description="Train gradient boosting on the breast-cancer data.")
    p.add_argument("--config", default=os.path.join(HERE, "config.yaml"), help="YAML config")
    p.add_argument("--learning-rate", type=float, help="shrinkage (model.learning_rate)")
    p.add_argument("--n-estimators", type=int, help="boosting iterations (model.n_estimators)")
    p.add_argument("--max-depth", type=int, help="tree depth (model.max_depth)")
    p.add_argument("--subsample", type=float, help="row fraction per tree (model.subsample)")
    p.add_argument("--seed", type=int, help="split and model seed")
    p.add_argument("--out", default="out", help="directory for the model and plots")
    p.add_argument("--project", default="breast-cancer", help="cairn project (train.py)")
    return p.parse_args(argv)


def load_config(args):
    """The config file with the command-line overrides applied."""
    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    for opt, key in (
        ("learning_rate", "learning_rate"),
        ("n_estimators", "n_estimators"),
        ("max_depth", "max_depth"),
        ("subsample", "subsample"),
    ):
        if getattr(args, opt) is not None:
            cfg["model"][key] = getattr(args, opt)
    if args.seed is not None:
        cfg["seed"] = args.seed
    return cfg


def dataset_path():
    """The CSV file scikit-learn loads the dataset from (its digest versions the data)."""
    return os.path.join(os.path.dirname(datasets.__file__), "data", "breast_cancer.csv")


def load_data(cfg):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return train_test_split(
        X, y, test_size=cfg["data"]["valid_fraction"], random_state=cfg["seed"], stratify=y
    )


def train(cfg, X_train, y_train):
    m = cfg["model"]
    model = GradientBoostingClassifier(
        learning_rate=m["learning_rate"],
        n_estimators=m["n_estimators"],
        max_depth=m["max_depth"],
        subsample=m["subsample"],
        min_samples_leaf=m["min_samples_leaf"],
        random_state=cfg["seed"],
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
