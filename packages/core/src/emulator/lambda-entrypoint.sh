#!/bin/sh
# lambda-testkit's /lambda-entrypoint.sh, with the contract of the AWS base images' script
# (docs/lambda-apis.md#base-image-contract): exactly one argument (the handler, i.e. the image CMD),
# exported as _HANDLER; without AWS_LAMBDA_RUNTIME_API it starts the emulator (as the base images start
# /usr/local/bin/aws-lambda-rie), with it it runs the runtime directly (as real Lambda does).
# LAMBDA_TESTKIT_EMULATOR overrides the emulator command (default: the one in the image layout).

if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  # NODE_OPTIONS is the function's (a --require of a user, say), not the emulator's:
  # the emulator hands it back to the runtime from LAMBDA_TESTKIT_NODE_OPTIONS.
  if [ -n "${NODE_OPTIONS}" ]; then
    export LAMBDA_TESTKIT_NODE_OPTIONS="${NODE_OPTIONS}"
    unset NODE_OPTIONS
  fi
  if [ -n "${LAMBDA_TESTKIT_EMULATOR}" ]; then
    # Word splitting is intended: the override is a command line ("node /path/cli.js").
    # shellcheck disable=SC2086
    exec ${LAMBDA_TESTKIT_EMULATOR} --host 0.0.0.0 --port 8080 "$1"
  fi
  exec node /var/runtime/lambda-testkit-emulator/cli.js --host 0.0.0.0 --port 8080 "$1"
else
  exec /var/runtime/bootstrap
fi
