package io.ambit.xds.client;

import io.ambit.xds.proto.discovery.Resource;
import java.util.List;

/**
 * Applies the resources of one type, as a {@link DeltaAdsClient} receives them. Called on the client's
 * control thread only, one response at a time, so an implementation needs no locks for its own state.
 */
public interface ResourceHandler {
    /** The type URL this handler subscribes to. */
    String typeUrl();

    /**
     * Applies one response: {@code resources} added or changed (only those whose version differs from the
     * one held), {@code removed} names to drop. Valid resources must be applied even when others are bad.
     *
     * @return the resources not applied, by name, with the reason; empty when all were
     */
    List<Rejection> apply(List<Resource> resources, List<String> removed);
}
