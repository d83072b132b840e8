package io.ambit.hbone.server;

import java.util.concurrent.CompletionStage;

/**
 * Decides CONNECT streams: authorize, connect the upstream, answer. Called on the stream's event loop;
 * it must not block there, so slow work (a policy lookup waiting for xDS, an upstream connect) completes
 * the returned stage later. A stage that fails, or does not complete within the server's decision
 * timeout, is answered {@code 503}.
 */
@FunctionalInterface
public interface ConnectHandler {
    CompletionStage<ConnectResponse> onConnect(ConnectRequest request);
}
