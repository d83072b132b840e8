package io.ambit.xds.client;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach istiod's xDS (or CA) endpoint, as ztunnel's settings (ztunnel-reference §3.2, §4.1).
 *
 * @param address         {@code XDS_ADDRESS} / {@code CA_ADDRESS}: {@code https://host:port}
 * @param rootCert        {@code XDS_ROOT_CA} / {@code CA_ROOT_CA}: PEM roots, or null for the JDK's trust store
 * @param serverName      {@code ALT_XDS_HOSTNAME} / {@code ALT_CA_HOSTNAME}: the name to verify, or null for
 *                        the URL host
 * @param tokenFile       the projected service-account token ({@code AUTH_TOKEN}), or null for none
 * @param clusterId       {@code CLUSTER_ID}, sent as the {@code clusterid} header
 * @param headers         {@code XDS_HEADER_<NAME>} / {@code CA_HEADER_<NAME>} extra headers
 * @param onDemand        {@code XDS_ON_DEMAND}: ask for addresses as they are needed, not all at once
 * @param initialBackoff  the first reconnect delay (10 ms)
 * @param maxBackoff      the longest reconnect delay (15 s)
 * @param maxMessageBytes the largest response accepted (200 MiB, as ztunnel)
 */
public record XdsSettings(
        URI address,
        Path rootCert,
        String serverName,
        Path tokenFile,
        String clusterId,
        Map<String, String> headers,
        boolean onDemand,
        Duration initialBackoff,
        Duration maxBackoff,
        int maxMessageBytes) {

    /** ztunnel's default maximum decoded message size. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 200 * 1024 * 1024;

    public XdsSettings {
        ControlPlaneChannel.parse(address);
        headers = Map.copyOf(Objects.requireNonNullElse(headers, Map.of()));
        initialBackoff = Objects.requireNonNullElse(initialBackoff, Backoff.INITIAL);
        maxBackoff = Objects.requireNonNullElse(maxBackoff, Backoff.MAX);
        if (maxMessageBytes <= 0) {
            throw new IllegalArgumentException("maxMessageBytes " + maxMessageBytes + " (expected: > 0)");
        }
        clusterId = Objects.requireNonNullElse(clusterId, "");
    }

    /** ztunnel's defaults for everything but where to connect and what to trust. */
    public static XdsSettings of(URI address, Path rootCert, Path tokenFile, String clusterId) {
        return new XdsSettings(
                address,
                rootCert,
                null,
                tokenFile,
                clusterId,
                Map.of(),
                false,
                Backoff.INITIAL,
                Backoff.MAX,
                DEFAULT_MAX_MESSAGE_BYTES);
    }

    public XdsSettings withServerName(String value) {
        return new XdsSettings(
                address,
                rootCert,
                value,
                tokenFile,
                clusterId,
                headers,
                onDemand,
                initialBackoff,
                maxBackoff,
                maxMessageBytes);
    }

    public XdsSettings withHeaders(Map<String, String> value) {
        return new XdsSettings(
                address,
                rootCert,
                serverName,
                tokenFile,
                clusterId,
                value,
                onDemand,
                initialBackoff,
                maxBackoff,
                maxMessageBytes);
    }

    public XdsSettings withOnDemand(boolean value) {
        return new XdsSettings(
                address,
                rootCert,
                serverName,
                tokenFile,
                clusterId,
                headers,
                value,
                initialBackoff,
                maxBackoff,
                maxMessageBytes);
    }

    public XdsSettings withBackoff(Duration initial, Duration max) {
        return new XdsSettings(
                address, rootCert, serverName, tokenFile, clusterId, headers, onDemand, initial, max, maxMessageBytes);
    }

    public XdsSettings withMaxMessageBytes(int value) {
        return new XdsSettings(
                address,
                rootCert,
                serverName,
                tokenFile,
                clusterId,
                headers,
                onDemand,
                initialBackoff,
                maxBackoff,
                value);
    }

    /** The headers to authenticate with. */
    public BearerToken credentials() {
        return new BearerToken(tokenFile, clusterId, headers);
    }
}
