# The gateway: ASP.NET (H5 API and the H5 app, WeChat Pay notifies, admin, health) and an Orleans client. Build from the
# repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t grouppay/gateway .
# Listens on 8080 (ASPNETCORE_HTTP_PORTS); health at /health/live and /health/ready.

# The H5 app (h5/, docs/h5.md): npm ci and the Vite build, which writes Gateway/wwwroot.
FROM node:20-bookworm-slim AS h5
WORKDIR /src/h5
COPY h5/package.json h5/package-lock.json ./
RUN --mount=type=cache,id=grouppay-npm,target=/root/.npm npm ci --no-audit --no-fund
COPY h5/ ./
RUN npm run build

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
COPY --from=h5 /src/Gateway/wwwroot Gateway/wwwroot
# The SDK image has no Node: the app is built above, so the project's own npm steps are skipped (H5Build=false).
RUN --mount=type=cache,id=grouppay-nuget,target=/root/.nuget/packages \
    dotnet publish Gateway/Gateway.csproj --configuration Release --output /app --nologo -p:H5Build=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "GroupPay.Gateway.dll"]
