# One image for both roles: `ambit ztunnel` (the node proxy DaemonSet) and `ambit waypoint` (the per-namespace
# L7 proxy), plus `ambit run` for a whole local mesh. Build:
#   docker build -t ambit:0.1.0 .                      (or podman/buildah; any registry with the two bases)
#   scripts/image/build-offline.sh                      (no registry: local Debian bases, see that script)
# Base images are build arguments: BUILD_IMAGE needs a JDK 25 (jlink, jdeps, javac for the Maven wrapper);
# RUNTIME_IMAGE only needs glibc and /bin/sh, since the JDK runtime is built here with jlink.
ARG BUILD_IMAGE=eclipse-temurin:25-jdk
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build: the CLI jar and its libraries with the Maven wrapper, then a runtime of only the modules they use
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# POMs and the wrapper first: the dependency download is a layer of its own, kept while only sources change
# (best effort: whatever it misses, the package step below fetches)
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY policy-engine/pom.xml policy-engine/
COPY hbone/pom.xml hbone/
COPY xds-client/pom.xml xds-client/
COPY test-support/pom.xml test-support/
COPY ztunnel/pom.xml ztunnel/
COPY waypoint/pom.xml waypoint/
COPY cli/pom.xml cli/
COPY bench/pom.xml bench/
COPY deploy/pom.xml deploy/
RUN ./mvnw -B -q -pl cli -am dependency:go-offline -DexcludeGroupIds=io.ambit || true
COPY . .
RUN ./mvnw -B -q -pl cli -am package -DskipTests -Dspotless.check.skip=true \
 && mkdir -p /out/ambit \
 && cp cli/target/ambit-cli.jar /out/ambit/ \
 && cp -r cli/target/lib /out/ambit/lib \
 && cp -r examples /out/ambit/examples
# jdeps names the JDK modules the jars need; jdk.jcmd is added for operators (thread dumps, JFR, VM flags).
# --strip-java-debug-attributes, not --strip-debug: that also strips native symbols and needs objcopy.
RUN modules="$(jdeps --ignore-missing-deps --print-module-deps --multi-release 25 \
        --class-path "$(find /out/ambit/lib -name '*.jar' | tr '\n' ':')" /out/ambit/ambit-cli.jar)" \
 && echo "jlink modules: ${modules},jdk.jcmd" \
 && jlink --add-modules "${modules},jdk.jcmd" --strip-java-debug-attributes --no-man-pages --no-header-files \
        --compress=zip-6 --output /out/jre \
 && /out/jre/bin/java --list-modules > /out/ambit/jre-modules.txt

# ---- runtime: the jlinked JDK, the jars, a launcher, a non-root user
FROM ${RUNTIME_IMAGE}
ARG AMBIT_VERSION=0.1.0
LABEL org.opencontainers.image.title="ambit" \
      org.opencontainers.image.description="Pure-Java ambient-mesh data plane: ztunnel and waypoint" \
      org.opencontainers.image.version="${AMBIT_VERSION}"
COPY --from=build /out/jre /opt/ambit/jre
COPY --from=build /out/ambit /opt/ambit
COPY scripts/image/ambit /usr/local/bin/ambit
# UID/GID 1337 as Istio's proxies. Written directly so any base with /etc/passwd works (no useradd needed).
# /opt/ambit is the working directory and belongs to the user: `ambit run` keeps its CA state there.
RUN echo 'ambit:x:1337:1337:ambit:/opt/ambit:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'ambit:x:1337:' >> /etc/group \
 && chown 1337:1337 /opt/ambit \
 && chmod 0755 /usr/local/bin/ambit \
 && /usr/local/bin/ambit --version
# Where Istio mounts the projected token and the mesh root certificate (deploy/ztunnel/daemonset.yaml)
ENV AUTH_TOKEN=/var/run/secrets/tokens/istio-token \
    XDS_ROOT_CA=/var/run/secrets/istio/root-cert.pem \
    CA_ROOT_CA=/var/run/secrets/istio/root-cert.pem
WORKDIR /opt/ambit
USER 1337:1337
# 15001 outbound, 15006 inbound plaintext, 15008 HBONE, 15020 metrics, 15021 readiness, 15080 SOCKS5 (local
# mode). The admin port 15000 listens on localhost only and is not exposed.
EXPOSE 15001 15006 15008 15020 15021 15080
ENTRYPOINT ["/usr/local/bin/ambit"]
CMD ["--help"]
