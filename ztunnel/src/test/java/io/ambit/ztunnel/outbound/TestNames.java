package io.ambit.ztunnel.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Names under {@value #SUFFIX} (RFC 6761's {@code .test}, never a real name) for the tests' JVM, plugged
 * into the JDK's own resolver through its service-provider interface: the proxy's production lookup
 * ({@code InetAddress.getAllByName} in {@link OnDemandDns#shared()}) resolves them without touching the
 * machine's {@code /etc/hosts} or DNS. A name of that domain not registered does not resolve; every other
 * name goes to the JDK's built-in resolver unchanged.
 */
public final class TestNames extends InetAddressResolverProvider {
    public static final String SUFFIX = ".names.test";

    private static final Map<String, List<InetAddress>> NAMES = new ConcurrentHashMap<>();
    private static final AtomicInteger LOOKUPS = new AtomicInteger();

    /** Makes {@code name} (ending in {@value #SUFFIX}) resolve to {@code addresses} (IP literals). */
    public static void register(String name, String... addresses) throws UnknownHostException {
        if (!name.endsWith(SUFFIX)) {
            throw new IllegalArgumentException(name + " (expected: a name ending in " + SUFFIX + ")");
        }
        var list = new java.util.ArrayList<InetAddress>();
        for (String a : addresses) {
            list.add(InetAddress.getByName(a)); // literals: no lookup
        }
        NAMES.put(name, List.copyOf(list));
    }

    /** How many lookups of {@value #SUFFIX} names the JDK made through this provider. */
    public static int lookups() {
        return LOOKUPS.get();
    }

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                if (!host.endsWith(SUFFIX)) {
                    return builtin.lookupByName(host, policy);
                }
                LOOKUPS.incrementAndGet();
                var found = NAMES.get(host);
                if (found == null) {
                    throw new UnknownHostException(host + ": not a registered test name");
                }
                return found.stream();
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return builtin.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "ambit-test-names";
    }
}
