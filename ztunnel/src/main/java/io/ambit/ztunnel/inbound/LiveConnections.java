package io.ambit.ztunnel.inbound;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inbound tunnels of one node that are open now, each with the {@link AccessRequest} it was allowed
 * on, so a new policy snapshot can decide them again and close the ones it denies (issue 4 item 5; Istio's
 * ztunnel does the same on every policy update). Tunnels deregister when they end, however they end.
 *
 * <p>Thread-safety: tunnels register and deregister on their event loops; {@link #recheck(MeshState)} runs
 * on the mesh source's control thread. A tunnel decided on an older state than the one published while it
 * registered is decided again right at registration, so no update slips between decision and registration.
 */
public final class LiveConnections implements MeshSource.Listener {
    private static final Logger log = LoggerFactory.getLogger(LiveConnections.class);

    /** One open tunnel: what decides it again, and how to end it. */
    interface Live {
        AccessRequest access();

        /**
         * Ends the tunnel because {@code now} denies it; the tunnel's access-log line (written when it
         * closes) names the denying policy. Called at most once; must not block.
         */
        void revoke(Decision now);
    }

    private final MeshSource mesh;
    private final Set<Live> live = ConcurrentHashMap.newKeySet();

    public LiveConnections(MeshSource mesh) {
        this.mesh = mesh;
    }

    /** How many tunnels are open. */
    public int size() {
        return live.size();
    }

    /**
     * Registers a tunnel allowed on {@code decidedOn}; if a newer state is already published, decides it
     * again now.
     */
    void register(Live conn, MeshState decidedOn) {
        live.add(conn);
        MeshState now = mesh.current();
        if (now != decidedOn) {
            recheck(conn, now);
        }
    }

    /** Forgets a tunnel that ended. */
    void deregister(Live conn) {
        live.remove(conn);
    }

    @Override
    public void updated(MeshState state) {
        recheck(state);
    }

    /** Decides every open tunnel against {@code state}'s policies and revokes the ones now denied. */
    public int recheck(MeshState state) {
        int closed = 0;
        for (var conn : live) {
            if (recheck(conn, state)) {
                closed++;
            }
        }
        if (closed > 0) {
            log.info("policy update closed {} of {} live inbound connections", closed, closed + live.size());
        }
        return closed;
    }

    private boolean recheck(Live conn, MeshState state) {
        Decision now = state.policies().decideL4(conn.access());
        if (now.allowed() || !live.remove(conn)) {
            return false; // still allowed, or already ended / revoked by a concurrent re-check
        }
        conn.revoke(now);
        return true;
    }
}
