package io.ambit.xds.kube;

import java.util.List;
import java.util.Map;

/**
 * What a {@link KindWatcher} tells its owner, from the watcher's thread, in order. The owner applies it on
 * its own control thread.
 */
interface WatchSink {
    /**
     * Every object of {@code kind}, after a (re)list: replaces whatever was known of the kind. Also called
     * with an empty list when the kind's resource does not exist (its CRD is not installed).
     */
    void listed(ApiKind kind, List<Map<String, Object>> objects);

    /** One watch event: {@code ADDED}, {@code MODIFIED} or {@code DELETED}, with the object. */
    void changed(ApiKind kind, String type, Map<String, Object> object);
}
