#!/usr/bin/env python3
"""train.py — scikit-learn with cairn.sklearn.autolog(): two added lines.

    /usr/bin/python3 examples/sklearn-autolog/train.py

A grid search over a scaler + logistic regression pipeline on the
breast-cancer data scikit-learn ships (nothing is downloaded).  The script
has no cairn call but autolog(): the search's params (the pipeline's and the
grid), its best params and best CV score, the validation score and the AUC
computed with sklearn.metrics are recorded into a run that autolog starts
(inside `cairn run`, into the wrapper's run).
"""

import cairn
import cairn.sklearn

cairn.sklearn.autolog(project="sklearn-autolog")  # before `from sklearn.metrics import ...`

from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def main():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=7)
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    search = GridSearchCV(pipe, {"clf__C": [0.01, 0.1, 1.0, 10.0]}, cv=3)
    search.fit(X_train, y_train)  # params GridSearchCV.*, best params, best CV score
    accuracy = search.score(X_valid, y_valid)  # metric GridSearchCV.score
    auc = roc_auc_score(y_valid, search.predict_proba(X_valid)[:, 1])  # metric roc_auc_score
    run = cairn.active_run()
    print("run %s (%s): best C %s, valid accuracy %.4f, AUC %.4f"
          % (run.id[:8], run.name, search.best_params_["clf__C"], accuracy, auc))


if __name__ == "__main__":
    main()
