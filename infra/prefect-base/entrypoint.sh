#!/bin/bash
# /opt/prefect/entrypoint.sh of the local stand-in for Prefect's image (infra/build-image-local), with the
# behaviour of Prefect's own scripts/entrypoint.sh: source ~/.bashrc if there is one, install
# $EXTRA_PIP_PACKAGES if set, then exec the arguments (or a login shell when there are none).
set -e

if [ -f ~/.bashrc ]; then
  . ~/.bashrc
fi

if [ -n "$EXTRA_PIP_PACKAGES" ]; then
  echo "+uv pip install $EXTRA_PIP_PACKAGES"
  # shellcheck disable=SC2086  # a list of requirements, split as Prefect's entrypoint splits it
  uv pip install $EXTRA_PIP_PACKAGES
fi

if [ -z "$*" ]; then
  exec bash --login
else
  exec "$@"
fi
