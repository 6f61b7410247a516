#!/usr/bin/env python3
"""train.py — XGBoost with cairn.xgboost.CairnCallback.

    /usr/bin/python3 examples/xgboost/train.py [--rounds 40] [--eta 0.3]

Boosted trees on the breast-cancer data scikit-learn ships (nothing is
downloaded), with early stopping on the validation set.  The callback logs
train-logloss, train-auc, valid-logloss and valid-auc after every round
(step = round), the booster's parameters as xgboost.* params and its whole
configuration as the artifact xgboost/config.json, and the best iteration
and score.
"""

import argparse

import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import cairn
from cairn.xgboost import CairnCallback


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--eta", type=float, default=0.3)
    ap.add_argument("--max-depth", type=int, default=3)
    args = ap.parse_args(argv)
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=7)
    dtrain, dvalid = xgb.DMatrix(X_train, label=y_train), xgb.DMatrix(X_valid, label=y_valid)
    params = {"objective": "binary:logistic", "eta": args.eta, "max_depth": args.max_depth,
              "eval_metric": ["logloss", "auc"], "seed": 7}
    with cairn.init(project="xgboost", params=args) as run:
        booster = xgb.train(params, dtrain, num_boost_round=args.rounds,
                            evals=[(dtrain, "train"), (dvalid, "valid")],
                            early_stopping_rounds=5, verbose_eval=False,
                            callbacks=[CairnCallback()])
        print("run %s (%s): %d rounds, best iteration %d, valid auc %.4f"
              % (run.id[:8], run.name, booster.num_boosted_rounds(), booster.best_iteration,
                 booster.best_score))


if __name__ == "__main__":
    main()
