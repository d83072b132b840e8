package io.ambit.waypoint.extauthz;

import io.ambit.policy.mesh.ExtensionProvider;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A CUSTOM provider the waypoint cannot call (not declared, declared by name only, or another kind):
 * every check is denied with 403, as Istio denies CUSTOM-matched requests of a bad provider.
 */
final class DenyingClient implements ExtAuthzClient {
    private final ExtAuthzVerdict verdict;

    DenyingClient(String reason) {
        this.verdict = new ExtAuthzVerdict(
                ExtAuthzVerdict.Kind.ERROR,
                false,
                403,
                "",
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                reason);
    }

    @Override
    public CompletionStage<ExtAuthzVerdict> check(CheckInput input) {
        return CompletableFuture.completedFuture(verdict);
    }

    @Override
    public ExtensionProvider.RequestBody body() {
        return null;
    }

    @Override
    public void close() {}
}
