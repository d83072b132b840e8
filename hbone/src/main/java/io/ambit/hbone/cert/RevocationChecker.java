package io.ambit.hbone.cert;

import java.math.BigInteger;
import java.security.cert.CRLException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a peer's certificate is revoked, by the CRL its CA publishes ({@link CertificateSource#crl()},
 * e.g. {@code ca-crl.pem} of a plugged CA); and a signal when that changes, so that the server can close
 * live connections whose peer is now revoked (ztunnel's {@code crl_*_terminates_existing_connection}).
 *
 * <p>{@link #refresh()} reads the source's CRL and, when it is new, publishes it whole (one {@link
 * Revocations} snapshot behind an {@link AtomicReference}; readers on the data path never lock) and then
 * tells the listeners. Rules for what counts as new:
 *
 * <ul>
 *   <li>the same CRL again (same bytes) changes nothing;
 *   <li>an older CRL ({@code thisUpdate} before the one in use) is ignored with a warning: a rolled-back
 *       file must not un-revoke anyone;
 *   <li>a source that stops publishing keeps the revocations it published;
 *   <li>a CRL past its {@code nextUpdate} is still used (its revocations stay true), with a warning.
 * </ul>
 *
 * <p>The CRL's signature is the source's to check ({@code PluggedCa} accepts only a CRL signed by its CA).
 */
public final class RevocationChecker {
    private static final Logger LOG = LoggerFactory.getLogger(RevocationChecker.class);

    /** Told when the revocations change; called on the thread that refreshed. */
    @FunctionalInterface
    public interface Listener {
        void revocationsChanged(Revocations revocations);
    }

    private final Supplier<Optional<X509CRL>> crls;
    private final Clock clock;
    private final AtomicReference<Revocations> current = new AtomicReference<>(Revocations.NONE);
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    /**
     * A checker over any CRL supplier (for instance a {@code CRL_PATH} file); {@code clock} only decides
     * whether to warn about a stale CRL.
     */
    public RevocationChecker(Supplier<Optional<X509CRL>> crls, Clock clock) {
        this.crls = crls;
        this.clock = clock;
    }

    /** A checker over {@code source}'s CRL; nothing is revoked until the first {@link #refresh()}. */
    public static RevocationChecker of(CertificateSource source, Clock clock) {
        return new RevocationChecker(source::crl, clock);
    }

    /**
     * Reads the CRL now; when it is new, publishes it and tells the listeners.
     *
     * @return whether the revocations changed
     */
    public synchronized boolean refresh() {
        Optional<X509CRL> next;
        try {
            next = crls.get();
        } catch (RuntimeException e) {
            LOG.warn("cannot read the CRL ({}); keeping the last one", e.toString());
            return false;
        }
        if (next.isEmpty()) {
            return false;
        }
        X509CRL crl = next.get();
        Revocations before = current.get();
        if (before.crl().isPresent()) {
            X509CRL old = before.crl().get();
            if (sameBytes(old, crl)) {
                return false;
            }
            if (crl.getThisUpdate().before(old.getThisUpdate())) {
                LOG.warn(
                        "ignoring a CRL from {} issued {}: older than the one in use ({})",
                        crl.getIssuerX500Principal().getName(),
                        crl.getThisUpdate().toInstant(),
                        old.getThisUpdate().toInstant());
                return false;
            }
        }
        Revocations now = Revocations.of(crl);
        current.set(now);
        now.nextUpdate().ifPresent(nextUpdate -> {
            if (nextUpdate.isBefore(clock.instant())) {
                LOG.warn(
                        "the CRL from {} was due for renewal at {}; using it anyway",
                        crl.getIssuerX500Principal().getName(),
                        nextUpdate);
            }
        });
        LOG.info(
                "CRL from {} issued {}: {} revoked",
                crl.getIssuerX500Principal().getName(),
                crl.getThisUpdate().toInstant(),
                now.revokedSerials().size());
        for (Listener listener : listeners) {
            try {
                listener.revocationsChanged(now);
            } catch (RuntimeException e) {
                LOG.warn("revocation listener {} failed", listener, e);
            }
        }
        return true;
    }

    /**
     * Refreshes every {@code interval} on {@code scheduler}, starting one interval from now (call {@link
     * #refresh()} first for an immediate read).
     *
     * @return stops the refreshing
     */
    public Scheduler.Cancellable refreshEvery(Scheduler scheduler, Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("CRL refresh interval: " + interval + " (expected > 0)");
        }
        var stopped = new AtomicBoolean();
        var next = new AtomicReference<Scheduler.Cancellable>();
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
            if (stopped.get()) {
                return;
            }
            refresh();
            if (!stopped.get()) {
                next.set(scheduler.schedule(interval, tick[0]));
            }
        };
        next.set(scheduler.schedule(interval, tick[0]));
        return () -> {
            stopped.set(true);
            Scheduler.Cancellable pending = next.get();
            if (pending != null) {
                pending.cancel();
            }
        };
    }

    /** The revocations in force. */
    public Revocations current() {
        return current.get();
    }

    /** Whether {@code cert} is revoked by the CRL in force. */
    public boolean isRevoked(X509Certificate cert) {
        return current.get().isRevoked(cert);
    }

    /** Whether any certificate of {@code chain} is revoked by the CRL in force. */
    public boolean isRevoked(List<X509Certificate> chain) {
        return current.get().isRevoked(chain);
    }

    /** Every serial the CRL in force revokes. */
    public Set<BigInteger> revokedSerials() {
        return current.get().revokedSerials();
    }

    /** Registers {@code listener} for every change from now on. */
    public Subscription addListener(Listener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private static boolean sameBytes(X509CRL a, X509CRL b) {
        try {
            return Arrays.equals(a.getEncoded(), b.getEncoded());
        } catch (CRLException e) {
            return false;
        }
    }
}
