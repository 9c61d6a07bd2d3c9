# The WeChat Pay sandbox (WeChat Pay v2 + WeChat OAuth on their real paths), for local stacks and demos only.
#   docker build -f deploy/docker/sandbox.Dockerfile -t grouppay/sandbox .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=grouppay-nuget,target=/root/.nuget/packages \
    dotnet publish WeChatPay.Sandbox/WeChatPay.Sandbox.csproj --configuration Release --output /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Development: the demo merchant and a 100x faster notify retry schedule (README, the sandbox).
ENV ASPNETCORE_ENVIRONMENT=Development \
    ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "GroupPay.WeChatPay.Sandbox.dll"]
