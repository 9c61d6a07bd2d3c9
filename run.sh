#!/usr/bin/env bash
# Runs GroupPay locally: restores, builds and starts what exists so far, printing the URL to open.
# Today that is the WeChat Pay sandbox (WeChat Pay v2 + WeChat OAuth on their real paths); the silos and
# the gateway join this command as they land. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")"

port="${SANDBOX_PORT:-5080}"
url="http://127.0.0.1:${port}"

dotnet build WeChatPay.Sandbox --configuration Release --nologo -v quiet

echo "WeChat Pay sandbox:  ${url}"
echo "  merchant API:      ${url}/pay/unifiedorder (point WeChatPay__BaseUrl at ${url})"
echo "  OAuth:             ${url}/connect/oauth2/authorize (point WeChat__OAuthBaseUrl and WeChat__ApiBaseUrl at ${url})"
echo "  health:            ${url}/sandbox/health"
echo "Press Ctrl-C to stop."
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
# The built app itself (not `dotnet run`), so a signal to this script reaches the process that listens.
exec dotnet WeChatPay.Sandbox/bin/Release/net10.0/GroupPay.WeChatPay.Sandbox.dll --contentRoot "$(pwd)/WeChatPay.Sandbox" --urls "${url}"
