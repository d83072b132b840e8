package io.ambit.hbone.server;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Asking a {@link ConnectHandler} for a CONNECT stream's answer, the same way for a child-channel stream
 * ({@link ConnectStreamHandler}) and a direct one ({@link DirectStream}): a handler that throws, fails or answers
 * nothing gets the client a 503, and the answer is delivered on the stream's event loop whichever thread the
 * handler completed on. The decision timeout stays with the caller (it owns the timer it cancels).
 */
final class Decision {
    private Decision() {}

    static void ask(
            ConnectHandler handler, ConnectRequest request, EventExecutor loop, Consumer<ConnectResponse> answer) {
        CompletionStage<ConnectResponse> decision;
        try {
            decision = handler.onConnect(request);
        } catch (RuntimeException e) {
            decision = CompletableFuture.failedFuture(e);
        }
        decision.whenComplete((response, error) -> {
            ConnectResponse r = error != null || response == null
                    ? ConnectResponse.reject(
                            ConnectStatus.SERVICE_UNAVAILABLE,
                            error != null ? "decision failed: " + error : "no decision")
                    : response;
            if (loop.inEventLoop()) {
                answer.accept(r);
            } else {
                loop.execute(() -> answer.accept(r));
            }
        });
    }
}
