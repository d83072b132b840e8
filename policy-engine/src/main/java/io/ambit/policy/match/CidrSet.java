package io.ambit.policy.match;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable set of CIDR blocks, built once, answering "is this address in any of the blocks?"
 * without allocating — the lookup behind {@code ipBlocks}, {@code notIpBlocks}, {@code
 * remoteIpBlocks} and the IP conditions, done per connection or request.
 *
 * <p>Each family has a binary prefix tree (trie) over the address bits, most significant first,
 * stored in one flat {@code int[]} — no object per node, and a lookup is at most 32 or 128 array
 * reads. An edge that completes a block is marked <em>covered</em>, so a lookup stops at the first
 * (shortest) block on its path, and nothing is stored below a covered edge: blocks inside a shorter
 * block cost nothing. The trie has at most as many nodes as the sum of the prefix lengths.
 *
 * <p>An IPv4 address is never in an IPv6 block and vice versa (authz-semantics §2.4); that includes
 * IPv4-mapped IPv6 blocks (see {@link Cidr}).
 *
 * <p>Equality is by the set of (masked) blocks, not by the addresses they cover: {@code
 * [10.0.0.0/8]} and {@code [10.0.0.0/8, 10.1.0.0/16]} contain the same addresses but are not equal.
 */
public final class CidrSet {

    // trie[2 * node + bit] is the edge from node for that next address bit; node 0 is the root.
    /** No block below this edge. */
    private static final int ABSENT = 0;
    /** A block ends at this edge: every address below it is contained. */
    private static final int COVERED = -1;
    // Any other (positive) value is the index of the child node. 0 doubles as ABSENT because the
    // root is never anyone's child.

    private static final int[] NO_BLOCKS = new int[2];

    private final Set<Cidr> cidrs;
    private final int[] v4;
    private final int[] v6;
    // A /0 covers the family at the root, which has no incoming edge to mark.
    private final boolean allV4;
    private final boolean allV6;

    private CidrSet(Set<Cidr> cidrs) {
        this.cidrs = Collections.unmodifiableSet(cidrs);
        // Shortest blocks first: when a block is inserted, every block it may lie inside is already
        // there, so insertion stops at a covered edge instead of building nodes nothing reaches.
        List<Cidr> byLength = new ArrayList<>(cidrs);
        byLength.sort(Comparator.comparingInt(Cidr::prefixLength));
        Builder v4Trie = new Builder();
        Builder v6Trie = new Builder();
        for (Cidr c : byLength) {
            (c.isV4() ? v4Trie : v6Trie).insert(c);
        }
        this.allV4 = v4Trie.all;
        this.allV6 = v6Trie.all;
        this.v4 = v4Trie.build();
        this.v6 = v6Trie.build();
    }

    /**
     * The set of the given blocks; duplicates (also ones that differ only in host bits) are kept once.
     *
     * @throws NullPointerException if {@code cidrs} or one of its elements is null
     */
    public static CidrSet of(Collection<Cidr> cidrs) {
        LinkedHashSet<Cidr> distinct = new LinkedHashSet<>();
        for (Cidr c : cidrs) {
            distinct.add(Objects.requireNonNull(c, "cidr"));
        }
        return new CidrSet(distinct);
    }

    /**
     * Parses each text with {@link Cidr#parse} and builds the set.
     *
     * @throws IllegalArgumentException for the first malformed text, naming it
     * @throws NullPointerException if {@code texts} or one of its elements is null
     */
    public static CidrSet parse(Collection<String> texts) {
        List<Cidr> parsed = new ArrayList<>(texts.size());
        for (String text : texts) {
            parsed.add(Cidr.parse(text));
        }
        return of(parsed);
    }

    /**
     * True if {@code a} lies in at least one block of its own family; false for {@code null}.
     * Allocates nothing.
     */
    public boolean contains(IpAddress a) {
        if (a == null) {
            return false;
        }
        if (a.isV4()) {
            if (allV4) {
                return true;
            }
            int bits = a.v4();
            int[] t = v4;
            int node = 0;
            for (int shift = 31; shift >= 0; shift--) {
                int next = t[(node << 1) | ((bits >>> shift) & 1)];
                if (next <= 0) {
                    return next == COVERED;
                }
                node = next;
            }
            return false; // not reached: the edge below the last bit is never a node
        }
        if (allV6) {
            return true;
        }
        long hi = a.hi();
        long lo = a.lo();
        int[] t = v6;
        int node = 0;
        for (int depth = 0; depth < 128; depth++) {
            long word = depth < 64 ? hi : lo;
            int bit = (int) (word >>> (63 - (depth & 63))) & 1;
            int next = t[(node << 1) | bit];
            if (next <= 0) {
                return next == COVERED;
            }
            node = next;
        }
        return false; // not reached, as above
    }

    /** True if the set has no blocks (it then contains no address). */
    public boolean isEmpty() {
        return cidrs.isEmpty();
    }

    /** The number of distinct blocks, counting blocks that lie inside other blocks. */
    public int size() {
        return cidrs.size();
    }

    /** The distinct blocks in the order first given; unmodifiable. */
    public Set<Cidr> cidrs() {
        return cidrs;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrSet other && cidrs.equals(other.cidrs);
    }

    @Override
    public int hashCode() {
        return cidrs.hashCode();
    }

    /** The blocks, e.g. {@code [10.0.0.0/8, fd00::/8]}. */
    @Override
    public String toString() {
        return cidrs.toString();
    }

    /** Grows one trie while blocks are inserted shortest first; {@link #build()} trims it. */
    private static final class Builder {
        private int[] trie = new int[64];
        private int nodes = 1; // the root
        /** A /0 was inserted: the trie is not needed, every address of the family is contained. */
        boolean all;

        void insert(Cidr c) {
            int length = c.prefixLength();
            if (all || length == 0) {
                all = true;
                return;
            }
            IpAddress a = c.address();
            int node = 0;
            for (int depth = 0; depth < length; depth++) {
                int edge = (node << 1) | bitAt(a, depth);
                if (depth == length - 1) {
                    // Shortest first means no node hangs here yet: at most a covered edge of an equal block.
                    trie[edge] = COVERED;
                    return;
                }
                int next = trie[edge];
                if (next == COVERED) {
                    return; // inside a block already present
                }
                if (next == ABSENT) {
                    next = newNode();
                    trie[edge] = next;
                }
                node = next;
            }
        }

        private int newNode() {
            if ((nodes + 1) * 2 > trie.length) {
                if (trie.length > (Integer.MAX_VALUE - 8) / 2) {
                    throw new IllegalArgumentException("too many CIDR blocks for one set");
                }
                trie = Arrays.copyOf(trie, trie.length * 2);
            }
            return nodes++;
        }

        int[] build() {
            return all || (nodes == 1 && trie[0] == ABSENT && trie[1] == ABSENT)
                    ? NO_BLOCKS
                    : Arrays.copyOf(trie, nodes * 2);
        }

        private static int bitAt(IpAddress a, int depth) {
            if (a.isV4()) {
                return (a.v4() >>> (31 - depth)) & 1;
            }
            long word = depth < 64 ? a.hi() : a.lo();
            return (int) (word >>> (63 - (depth & 63))) & 1;
        }
    }
}
