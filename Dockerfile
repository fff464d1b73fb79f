# Tollgate in a container: `tollgate feed serve` for a team, or any command in CI.
#   docker build -t tollgate .
#   docker run --rm --read-only --tmpfs /tmp -v "$PWD:/src:ro" -v tollgate-data:/data tollgate scan /src
#   docker run --rm --read-only --tmpfs /tmp -v "$PWD/feed.yaml:/etc/tollgate/feed.yaml:ro" -v tollgate-data:/data \
#     -p 8080:8080 tollgate feed serve --config /etc/tollgate/feed.yaml
# The feed listens where its configuration says (`listen: http://0.0.0.0:8080/` inside a container).
# Base images are pinned by digest (docs/ci.md says where each digest was taken from and how to update it).

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble@sha256:72dd743782f2ae7e5476fd64f6a460045e3998dc862218b80e6944cba79a01b0 AS build
WORKDIR /src
# Restore first, from the lock files only, so the layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props Tollgate.slnx ./
COPY src/Tollgate/Tollgate.csproj src/Tollgate/packages.lock.json src/Tollgate/
COPY src/Tollgate.Server/Tollgate.Server.csproj src/Tollgate.Server/packages.lock.json src/Tollgate.Server/
COPY src/Tollgate.Cli/Tollgate.Cli.csproj src/Tollgate.Cli/packages.lock.json src/Tollgate.Cli/
RUN dotnet restore src/Tollgate.Cli -p:RestoreLockedMode=true
COPY src/ src/
RUN dotnet publish src/Tollgate.Cli -c Release --no-restore -o /app -p:UseAppHost=false -p:GenerateDocumentationFile=false \
    && mkdir -p /empty/data

# Chiseled Ubuntu with the ASP.NET Core runtime (the feed is an ASP.NET Core host): no shell, no package manager,
# non-root user `app` (uid 1654) built in.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled@sha256:48e51f2f6798897be7ac4e775c049ed8fe60d3190f637e1f9c9dc7513efa659c AS final
WORKDIR /app
COPY --from=build /app /app
COPY --from=build --chown=1654:1654 /empty/data /data
# Everything Tollgate writes goes to /data (advisory database, feed storage) or /tmp, so the root file system can be
# mounted read-only.
ENV TOLLGATE_HOME=/data \
    DOTNET_EnableDiagnostics=0 \
    TMPDIR=/tmp
VOLUME ["/data"]
EXPOSE 8080
USER 1654:1654
ENTRYPOINT ["dotnet", "/app/Tollgate.Cli.dll"]
CMD ["--help"]
