# The silo: Orleans with Redis clustering, grain storage and reminders. Build from the repository root:
#   docker build -f deploy/docker/silo.Dockerfile -t grouppay/silo .
# Configuration is environment variables only (docs/api.md §2); it listens on Orleans__SiloPort (11111) and
# Orleans__GatewayPort (30000) at Orleans__AdvertisedIp, which must be this container's own address.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=grouppay-nuget,target=/root/.nuget/packages \
    dotnet publish Silo/Silo.csproj --configuration Release --output /app --nologo

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
ENV DOTNET_ENVIRONMENT=Production \
    Orleans__SiloPort=11111 \
    Orleans__GatewayPort=30000
EXPOSE 11111 30000
USER $APP_UID
ENTRYPOINT ["dotnet", "GroupPay.Silo.dll"]
