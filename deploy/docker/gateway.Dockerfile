# The gateway: ASP.NET (H5 API, WeChat Pay notifies, admin, health) and an Orleans client. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t grouppay/gateway .
# Listens on 8080 (ASPNETCORE_HTTP_PORTS); health at /health/live and /health/ready.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=grouppay-nuget,target=/root/.nuget/packages \
    dotnet publish Gateway/Gateway.csproj --configuration Release --output /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "GroupPay.Gateway.dll"]
