package io.ambit.policy.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class CidrSetTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            an empty set contains no IPv4 address                        | ''                                   | 10.0.0.1        | false
            an empty set contains no IPv6 address                        | ''                                   | fd00::1         | false
            0.0.0.0/0 contains every IPv4 address                        | 0.0.0.0/0                            | 203.0.113.9     | true
            0.0.0.0/0 contains no IPv6 address                           | 0.0.0.0/0                            | fd00::1         | false
            ::/0 contains every IPv6 address                             | ::/0                                 | 2001:db8::1     | true
            ::/0 contains no IPv4 address                                | ::/0                                 | 10.0.0.1        | false
            a /0 next to longer blocks still contains everything         | 10.0.0.0/8 0.0.0.0/0 10.1.0.0/16     | 192.0.2.1       | true
            a /32 contains exactly its address                           | 10.0.0.1                             | 10.0.0.1        | true
            a /32 does not contain its neighbour                         | 10.0.0.1                             | 10.0.0.0        | false
            a /128 contains exactly its address                          | fd00::1                              | fd00::1         | true
            a /128 does not contain its neighbour                        | fd00::1                              | fd00::3         | false
            a block contains its last address                            | 10.0.0.0/8                           | 10.255.255.255  | true
            a block does not contain the address after it                | 10.0.0.0/8                           | 11.0.0.0        | false
            a block does not contain the address before it               | 10.0.0.0/8                           | 9.255.255.255   | false
            a block inside a wider block adds nothing                    | 10.0.0.0/8 10.1.0.0/16               | 10.2.3.4        | true
            a wider block given after a narrower one still counts        | 10.1.0.0/16 10.0.0.0/8               | 10.2.3.4        | true
            overlapping blocks contain an address both cover             | 10.0.0.0/8 10.1.0.0/16               | 10.1.2.3        | true
            overlapping blocks do not contain what neither covers        | 10.0.0.0/8 10.1.0.0/16               | 11.1.2.3        | false
            two adjacent halves cover the first half                     | 10.0.0.0/25 10.0.0.128/25            | 10.0.0.127      | true
            two adjacent halves cover the second half                    | 10.0.0.0/25 10.0.0.128/25            | 10.0.0.128      | true
            two adjacent halves do not cover the next block              | 10.0.0.0/25 10.0.0.128/25            | 10.0.1.0        | false
            disjoint blocks contain an address of the second             | 192.168.0.0/16 172.16.0.0/12         | 172.31.255.255  | true
            a path that ends before the block's length misses            | 10.1.2.0/24                          | 10.1.3.0        | false
            a block written with host bits covers its whole range        | 10.1.2.3/24                          | 10.1.2.200      | true
            a mixed set finds an IPv4 address                            | fd00::/8 10.0.0.0/8                  | 10.9.9.9        | true
            a mixed set finds an IPv6 address                            | fd00::/8 10.0.0.0/8                  | fd12::1         | true
            an IPv6 block does not contain the next /8                   | fd00::/8                             | fe00::          | false
            a /64 contains the last address of the high word             | 2001:db8::/64                        | 2001:db8::ffff:ffff:ffff:ffff | true
            a /64 does not contain the next /64                          | 2001:db8::/64                        | 2001:db8:0:1::  | false
            a /65 does not contain the other half                        | 2001:db8::/65                        | 2001:db8::8000:0:0:0 | false
            a /127 contains both of its addresses                        | 2001:db8::/127                       | 2001:db8::1     | true
            a mapped IPv6 block does not contain the IPv4 address        | ::ffff:10.0.0.0/104                  | 10.0.0.1        | false
            an IPv4 block contains a mapped address, parsed as IPv4      | 10.0.0.0/8                           | ::ffff:10.0.0.1 | true
            an IPv4 block does not contain an IPv6 address with its bits | 0.0.0.0/1                            | ::1             | false
            an IPv6 block does not contain an IPv4 address with its bits | ::/1                                 | 10.0.0.1        | false
            """)
    void containsAnswersForEveryBlockOfTheAddressFamily(String name, String blocks, String address, boolean expected) {
        CidrSet set = CidrSet.parse(blocks.isEmpty() ? List.of() : Arrays.asList(blocks.split(" ")));

        assertThat(set.contains(IpAddress.parse(address))).isEqualTo(expected);
    }

    @Test
    void containsNullIsFalse() {
        assertThat(CidrSet.parse(List.of("0.0.0.0/0", "::/0")).contains(null)).isFalse();
    }

    @Test
    void sizeCountsDistinctMaskedBlocksInTheOrderGiven() {
        CidrSet set = CidrSet.parse(List.of("10.0.0.1/24", "fd00::/8", "10.0.0.0/24", "10.0.0.0/8"));

        assertThat(set.size()).isEqualTo(3);
        assertThat(set.isEmpty()).isFalse();
        assertThat(set.cidrs())
                .containsExactly(Cidr.parse("10.0.0.0/24"), Cidr.parse("fd00::/8"), Cidr.parse("10.0.0.0/8"));
        assertThat(set).hasToString("[10.0.0.0/24, fd00::/8, 10.0.0.0/8]");
    }

    @Test
    void anEmptySetIsEmpty() {
        CidrSet set = CidrSet.of(List.of());

        assertThat(set.isEmpty()).isTrue();
        assertThat(set.size()).isZero();
        assertThat(set.cidrs()).isEmpty();
    }

    @Test
    void theBlocksCannotBeModified() {
        CidrSet set = CidrSet.parse(List.of("10.0.0.0/8"));

        assertThat(set.cidrs()).isUnmodifiable();
    }

    @Test
    void setsWithTheSameBlocksAreEqualWhateverTheOrder() {
        CidrSet a = CidrSet.parse(List.of("10.0.0.0/8", "fd00::/8"));
        CidrSet b = CidrSet.parse(List.of("fd00::/8", "10.1.2.3/8"));

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(CidrSet.parse(List.of("10.0.0.0/8", "fd00::/8", "10.1.0.0/16")));
    }

    @Test
    void parseNamesTheFirstMalformedText() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CidrSet.parse(List.of("10.0.0.0/8", "10.0.0.0/33", "nope")))
                .withMessageStartingWith("\"10.0.0.0/33\" is not a CIDR block");
    }

    @Test
    void nullBlocksAreRejected() {
        assertThatNullPointerException().isThrownBy(() -> CidrSet.of(Arrays.asList(Cidr.parse("10.0.0.0/8"), null)));
        assertThatNullPointerException().isThrownBy(() -> CidrSet.parse(Arrays.asList("10.0.0.0/8", null)));
        assertThatNullPointerException().isThrownBy(() -> CidrSet.of(null));
    }

    /**
     * The trie must agree with the obvious definition — "some block of the same family whose first
     * prefixLength bits equal the address's" — computed here without the production masks (IPv4 by
     * shifting, IPv6 with BigInteger). Blocks are random but a fifth are derived from earlier ones,
     * so nested and containing blocks are common; probes mix addresses inside blocks, at their first
     * and last address, just outside them (last prefix bit flipped) and anywhere.
     */
    @ParameterizedTest(name = "a set of {0} random blocks agrees with a naive scan on {1} addresses")
    @CsvSource({"1, 2000", "10, 2000", "100, 3000", "1000, 3000", "5000, 3000"})
    void agreesWithANaiveMaskComparison(int blockCount, int probeCount) {
        Random random = new Random(0x5EED_0000L + blockCount);
        int minLength = 32 - Integer.numberOfLeadingZeros(blockCount) + 3; // keeps random hits rare
        List<Cidr> blocks = new ArrayList<>();
        for (int i = 0; i < blockCount; i++) {
            blocks.add(
                    i > 0 && random.nextInt(5) == 0
                            ? derivedBlock(random, blocks.get(random.nextInt(i)), minLength)
                            : randomBlock(random, minLength));
        }
        CidrSet set = CidrSet.of(blocks);
        List<BigBlock> naive = blocks.stream().map(BigBlock::new).toList();

        int inside = 0;
        for (int i = 0; i < probeCount; i++) {
            IpAddress probe = probe(random, blocks);
            boolean expected = naiveContains(naive, probe);
            if (set.contains(probe) != expected) {
                assertThat(set.contains(probe))
                        .as("%s in a set of %d blocks", probe, blockCount)
                        .isEqualTo(expected);
            }
            inside += expected ? 1 : 0;
        }
        // Both answers must be common, or the comparison proves little.
        assertThat(inside).as("probes inside some block").isBetween(probeCount / 10, probeCount * 9 / 10);
    }

    @Test
    void lookupsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        Random random = new Random(42);
        List<Cidr> blocks = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            blocks.add(randomBlock(random, 12));
        }
        CidrSet set = CidrSet.of(blocks);
        IpAddress[] probes = new IpAddress[1_000];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = probe(random, blocks);
        }
        int found = countContained(set, probes);

        long before = threads.getCurrentThreadAllocatedBytes();
        for (int round = 0; round < 100; round++) {
            found += countContained(set, probes);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(found).isPositive();
        // 100,000 lookups: even 8 bytes each would be 800 KB; what remains is measurement noise.
        assertThat(allocated).as("bytes allocated by 100,000 lookups").isLessThan(16_384);
    }

    private static int countContained(CidrSet set, IpAddress[] probes) {
        int n = 0;
        for (IpAddress p : probes) {
            if (set.contains(p)) {
                n++;
            }
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------
    // Random blocks and probes, and the naive oracle.

    private static Cidr randomBlock(Random random, int minLength) {
        boolean v4 = random.nextBoolean();
        int max = v4 ? 32 : 128;
        int length = Math.min(max, minLength) + random.nextInt(max - Math.min(max, minLength) + 1);
        return new Cidr(randomAddress(random, v4), length);
    }

    /** A block with the same leading bits as {@code base}, longer (nested) or shorter (containing). */
    private static Cidr derivedBlock(Random random, Cidr base, int minLength) {
        int max = base.address().bitLength();
        int length = Math.min(max, minLength) + random.nextInt(max - Math.min(max, minLength) + 1);
        return new Cidr(withRandomHostBits(random, base), length);
    }

    private static IpAddress probe(Random random, List<Cidr> blocks) {
        Cidr block = blocks.get(random.nextInt(blocks.size()));
        return switch (random.nextInt(6)) {
            case 0 -> withRandomHostBits(random, block);
            case 1 -> block.address(); // the first address
            case 2 -> lastAddress(block);
            case 3, 4 -> flipBit(withRandomHostBits(random, block), Math.max(0, block.prefixLength() - 1));
            default -> randomAddress(random, random.nextBoolean());
        };
    }

    private static IpAddress randomAddress(Random random, boolean v4) {
        // Not through ofV6 with random bits alone: parse() never yields a mapped address, so neither do probes.
        return v4
                ? IpAddress.ofV4(random.nextInt())
                : IpAddress.ofV6(random.nextLong(), random.nextLong()).unmap();
    }

    private static IpAddress withRandomHostBits(Random random, Cidr block) {
        BigBlock b = new BigBlock(block);
        BigInteger hostMask =
                BigInteger.ONE.shiftLeft(b.bits - block.prefixLength()).subtract(BigInteger.ONE);
        BigInteger host = new BigInteger(b.bits, random).and(hostMask);
        return fromBig(b.network.or(host), block.isV4());
    }

    private static IpAddress lastAddress(Cidr block) {
        BigBlock b = new BigBlock(block);
        BigInteger hostMask =
                BigInteger.ONE.shiftLeft(b.bits - block.prefixLength()).subtract(BigInteger.ONE);
        return fromBig(b.network.or(hostMask), block.isV4());
    }

    /** The address with bit {@code index} (0 = most significant) inverted. */
    private static IpAddress flipBit(IpAddress a, int index) {
        int bits = a.bitLength();
        return fromBig(toBig(a).flipBit(bits - 1 - index), a.isV4());
    }

    private static boolean naiveContains(List<BigBlock> blocks, IpAddress a) {
        BigInteger big = toBig(a);
        for (BigBlock b : blocks) {
            if (b.v4 != a.isV4()) {
                continue;
            }
            if (big.shiftRight(b.bits - b.prefixLength).equals(b.network.shiftRight(b.bits - b.prefixLength))) {
                return true;
            }
        }
        return false;
    }

    private record BigBlock(boolean v4, int bits, int prefixLength, BigInteger network) {
        BigBlock(Cidr c) {
            this(c.isV4(), c.address().bitLength(), c.prefixLength(), toBig(c.address()));
        }
    }

    private static BigInteger toBig(IpAddress a) {
        if (a.isV4()) {
            return BigInteger.valueOf(a.v4() & 0xffff_ffffL);
        }
        return new BigInteger(
                1, ByteBuffer.allocate(16).putLong(a.hi()).putLong(a.lo()).array());
    }

    private static IpAddress fromBig(BigInteger value, boolean v4) {
        if (v4) {
            return IpAddress.ofV4(value.intValue());
        }
        // unmap(): a probe stands for an address from parse() or a socket, never a mapped one.
        return IpAddress.ofV6(value.shiftRight(64).longValue(), value.longValue())
                .unmap();
    }
}
