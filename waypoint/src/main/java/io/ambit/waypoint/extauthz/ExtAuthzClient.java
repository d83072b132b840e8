package io.ambit.waypoint.extauthz;

import io.ambit.policy.mesh.ExtensionProvider;
import java.util.concurrent.CompletionStage;

/**
 * Asks one CUSTOM provider about a request. Get one from {@link ExtAuthzClients#client(String)}.
 *
 * <p>{@link #check} never blocks and never fails: every failure (timeout, refused connection, a 5xx, an
 * oversized or malformed answer) becomes an {@link ExtAuthzVerdict.Kind#ERROR} verdict that denies with
 * {@code statusOnError} unless the provider is {@code failOpen}. The stage completes on one of the
 * waypoint's event loops or a gRPC thread; a Netty caller continues with
 * {@code whenCompleteAsync(fn, ctx.executor())}.
 */
public interface ExtAuthzClient extends AutoCloseable {
    /** Asks the provider. */
    CompletionStage<ExtAuthzVerdict> check(CheckInput input);

    /**
     * Whether the provider wants the request body, and how much: buffer up to
     * {@code maxRequestBytes} before calling {@link #check}; null when it does not.
     */
    ExtensionProvider.RequestBody body();

    /** Releases connections; checks in flight complete with an error verdict. */
    @Override
    void close();
}
