package io.ambit.policy.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class IpAddressTest {

    private static final String EXPECTED = "(expected IPv4 like 10.0.0.1 or IPv6 like fd00::1)";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            the unspecified address 0.0.0.0 parses                       | 0.0.0.0         | 00000000
            the broadcast address 255.255.255.255 parses                 | 255.255.255.255 | ffffffff
            a lone zero octet is not a leading zero                      | 10.0.0.1        | 0a000001
            three-digit octets up to 255 parse                           | 192.168.100.255 | c0a864ff
            an address with the top bit set keeps its unsigned octets    | 200.1.2.3       | c8010203
            """)
    void parsesIpv4(String name, String text, String hexBits) {
        IpAddress a = IpAddress.parse(text);

        assertThat(a.isV4()).isTrue();
        assertThat(a.bitLength()).isEqualTo(32);
        assertThat(a.v4()).isEqualTo((int) Long.parseLong(hexBits, 16));
        assertThat(a).hasToString(text).isEqualTo(IpAddress.ofV4((int) Long.parseLong(hexBits, 16)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            :: (the unspecified address) parses                          | ::                                      | ::
            ::1 (loopback) parses                                        | ::1                                     | ::1
            a trailing :: parses                                         | 1::                                     | 1::
            the documentation example fd00::1 parses                     | fd00::1                                 | fd00::1
            upper-case hex digits are printed lower-case                 | FD00::ABCD                              | fd00::abcd
            the fully written form with leading zeros is compressed      | 2001:0db8:0000:0000:0000:0000:0002:0001 | 2001:db8::2:1
            eight groups without :: are compressed                       | 2001:db8:0:0:0:0:2:1                    | 2001:db8::2:1
            the longest zero run is the one compressed                   | 1:0:0:2:0:0:0:3                         | 1:0:0:2::3
            of two equally long zero runs the first is compressed        | 2001:db8:0:0:1:0:0:1                    | 2001:db8::1:0:0:1
            a single zero group is never compressed                      | 2001:db8:0:1:1:1:1:1                    | 2001:db8:0:1:1:1:1:1
            a :: standing for the last group parses                      | 1:2:3:4:5:6:7::                         | 1:2:3:4:5:6:7:0
            a :: standing for the first group parses                     | ::2:3:4:5:6:7:8                         | 0:2:3:4:5:6:7:8
            a :: standing for a middle group parses                      | 1:2:3::5:6:7:8                          | 1:2:3:0:5:6:7:8
            all ones parse                                               | ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff | ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
            groups with leading zeros parse                              | 0001:02:003::0004                       | 1:2:3::4
            a link-local address parses                                  | fe80::1:2                               | fe80::1:2
            a dotted quad after six groups fills the last 32 bits        | 1:2:3:4:5:6:1.2.3.4                     | 1:2:3:4:5:6:102:304
            a NAT64 address with an embedded dotted quad parses          | 64:ff9b::192.0.2.33                     | 64:ff9b::c000:221
            a deprecated IPv4-compatible address stays IPv6              | ::1.2.3.4                               | ::102:304
            an IPv4-translated ::ffff:0:a.b.c.d address stays IPv6       | ::ffff:0:1.2.3.4                        | ::ffff:0:102:304
            """)
    void parsesIpv6(String name, String text, String canonical) throws UnknownHostException {
        IpAddress a = IpAddress.parse(text);

        assertThat(a.isV4()).isFalse();
        assertThat(a.bitLength()).isEqualTo(128);
        assertThat(a).hasToString(canonical);
        // The JDK parses numeric literals without any lookup: an independent oracle for the bits.
        assertThat(a).isEqualTo(IpAddress.of(InetAddress.getByName(text)));
        assertThat(IpAddress.parse(canonical)).isEqualTo(a);
    }

    @Test
    void ipv6BitsAreBigEndianWithTheFirstGroupOnTop() {
        IpAddress a = IpAddress.parse("1:2:3:4:5:6:7:8");

        assertThat(a.hi()).isEqualTo(0x0001_0002_0003_0004L);
        assertThat(a.lo()).isEqualTo(0x0005_0006_0007_0008L);
        assertThat(IpAddress.ofV6(a.hi(), a.lo())).isEqualTo(a);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            the usual mapped form ::ffff:10.0.0.1 becomes IPv4           | ::ffff:10.0.0.1                         | 10.0.0.1
            a mapped address written in hex groups becomes IPv4          | ::ffff:a00:1                            | 10.0.0.1
            a fully written upper-case mapped address becomes IPv4       | 0:0:0:0:0:FFFF:10.0.0.1                 | 10.0.0.1
            a zero-padded mapped address becomes IPv4                    | 0000:0000:0000:0000:0000:ffff:0a00:0001 | 10.0.0.1
            the mapped unspecified address becomes 0.0.0.0               | ::ffff:0.0.0.0                          | 0.0.0.0
            """)
    void parseTurnsIpv4MappedAddressesIntoIpv4(String name, String text, String ipv4) {
        IpAddress a = IpAddress.parse(text);

        assertThat(a.isV4()).isTrue();
        assertThat(a).isEqualTo(IpAddress.parse(ipv4)).hasToString(ipv4);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            an empty string is not an address                            | ''                | the address is empty
            three octets are too few                                     | 10.0.0            | IPv4 needs 4 decimal octets separated by dots
            five octets are too many                                     | 10.0.0.0.0        | IPv4 has more than 4 octets
            an octet over 255 is rejected                                | 10.0.0.300        | IPv4 octet 300 is over 255
            256 in the first octet is rejected                           | 256.0.0.1         | IPv4 octet 256 is over 255
            a four-digit octet is rejected                               | 1000.0.0.1        | IPv4 octet "1000" is over 255
            a leading zero is rejected because it may mean octal         | 010.0.0.1         | IPv4 octet "010" has a leading zero
            a zero-padded last octet is rejected                         | 10.0.0.01         | IPv4 octet "01" has a leading zero
            a double-zero octet is rejected                              | 10.00.0.1         | IPv4 octet "00" has a leading zero
            a trailing dot is rejected                                   | 1.2.3.4.          | IPv4 has more than 4 octets
            a leading dot is rejected                                    | .1.2.3.4          | unexpected '.' at offset 0
            an empty octet is rejected                                   | 1..2.3            | unexpected '.' at offset 2
            a plus sign is rejected                                      | +1.2.3.4          | unexpected '+' at offset 0
            a minus sign is rejected                                     | -1.2.3.4          | unexpected '-' at offset 0
            a leading space is rejected                                  | ' 10.0.0.1'       | whitespace is not allowed
            a trailing space is rejected                                 | '10.0.0.1 '       | whitespace is not allowed
            a hexadecimal octet is rejected                              | 0x0a.0.0.1        | unexpected 'x' at offset 1
            the inet_aton short form is rejected                         | 10.1              | IPv4 needs 4 decimal octets separated by dots
            a 32-bit integer is rejected                                 | 167772161         | is over 255
            a host name is never resolved                                | localhost         | host names are never resolved
            a domain name is never resolved                              | example.com       | host names are never resolved
            a trailing letter is rejected                                | 10.0.0.1a         | unexpected 'a' at offset 8
            a prefix length is not part of an address                    | 10.0.0.0/8        | unexpected '/' at offset 8
            fullwidth digits are rejected                                | １０.0.0.1         | unexpected U+FF11 at offset 0
            Arabic-Indic digits are rejected                             | ١٠.0.0.1          | unexpected U+0661 at offset 0
            a wildcard is not an address                                 | *                 | unexpected '*' at offset 0
            three colons are rejected                                    | :::               | unexpected ':' at offset 2
            a triple colon between groups is rejected                    | 1:::2             | unexpected ':' at offset 3
            two :: are ambiguous                                         | 1::2::3           | "::" may appear only once
            a leading single colon is rejected                           | :1::2             | cannot start with a single ':'
            a lone colon is rejected                                     | :                 | cannot start with a single ':'
            a trailing single colon is rejected                          | 1::2:             | cannot end with a single ':'
            a group followed by one colon is rejected                    | 1:                | cannot end with a single ':'
            nine groups are too many                                     | 1:2:3:4:5:6:7:8:9 | IPv6 has more than 8 groups
            seven groups without :: are too few                          | 1:2:3:4:5:6:7     | IPv6 needs 8 groups
            a :: after eight groups stands for nothing                   | 1:2:3:4:5:6:7:8:: | "::" must stand for at least one zero group
            a :: before eight groups stands for nothing                  | ::1:2:3:4:5:6:7:8 | "::" must stand for at least one zero group
            a :: between eight groups stands for nothing                 | 1:2:3:4::5:6:7:8  | "::" must stand for at least one zero group
            a five-digit group is rejected                               | 12345::           | IPv6 group "12345" has more than 4 hex digits
            a non-hex letter is rejected                                 | g::1              | unexpected 'g' at offset 0
            a named zone id is rejected                                  | fe80::1%eth0      | zone ids like %eth0 are not allowed
            a numeric zone id is rejected                                | fe80::1%1         | zone ids like %eth0 are not allowed
            brackets are rejected                                        | [::1]             | brackets are not allowed
            an embedded IPv4 with three octets is rejected               | ::ffff:1.2.3      | IPv4 needs 4 decimal octets separated by dots
            an embedded IPv4 octet over 255 is rejected                  | ::ffff:1.2.3.256  | IPv4 octet 256 is over 255
            an embedded IPv4 octet with a leading zero is rejected       | ::ffff:01.2.3.4   | IPv4 octet "01" has a leading zero
            a dotted quad before the groups is rejected                  | 1.2.3.4::         | must be the last 32 bits
            a group after an embedded dotted quad is rejected            | ::1.2.3.4:5       | unexpected ':' at offset 9
            a dotted quad after seven groups is rejected                 | 1:2:3:4:5:6:7:1.2.3.4 | must be the last 32 bits
            a dotted quad after five groups without :: is rejected       | 1:2:3:4:5:1.2.3.4 | must be the last 32 bits
            a dot right after :: is rejected                             | ::.1.2.3          | unexpected '.' at offset 2
            a fullwidth hex digit is rejected                            | fd00::１           | unexpected U+FF11 at offset 6
            a space inside an IPv6 address is rejected                   | 'fd00:: 1'        | whitespace is not allowed
            a prefix length is not part of an IPv6 address               | fd00::/8          | unexpected '/' at offset 6
            """)
    void rejectsMalformedLiterals(String name, String text, String reason) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse(text))
                .withMessageStartingWith(IpAddress.quote(text) + " is not an IP address: ")
                .withMessageContaining(reason)
                .withMessageEndingWith(EXPECTED);
        assertThat(IpAddress.tryParse(text)).isEmpty();
    }

    @Test
    void theMessageNamesTheTextTheReasonAndWhatWasExpected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse("10.0.0.300"))
                .withMessage("\"10.0.0.300\" is not an IP address: IPv4 octet 300 is over 255 " + EXPECTED);
    }

    @Test
    void theMessageMakesInvisibleCharactersVisible() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse("10.0.0.1\u0000"))
                .withMessageStartingWith("\"10.0.0.1\\u0000\" is not an IP address: unexpected U+0000 at offset 8");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse("10.0.0.1\u00a0"))
                .withMessageStartingWith("\"10.0.0.1\\u00a0\" is not an IP address: whitespace is not allowed");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse("10.0.0.1\t"))
                .withMessageStartingWith("\"10.0.0.1\\u0009\"");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse("\"10.0.0.1\""))
                .withMessageStartingWith("\"\\\"10.0.0.1\\\"\" is not an IP address");
    }

    @Test
    void theMessageCutsAHugeTextShort() {
        String huge = "1".repeat(100_000);

        assertThatIllegalArgumentException()
                .isThrownBy(() -> IpAddress.parse(huge))
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400).contains("(100000 chars)"));
    }

    @Test
    void parseRejectsNullButTryParseSaysEmpty() {
        assertThatNullPointerException().isThrownBy(() -> IpAddress.parse(null));
        assertThat(IpAddress.tryParse(null)).isEmpty();
    }

    @Test
    void tryParseReturnsWhatParseReturns() {
        assertThat(IpAddress.tryParse("fd00::1")).contains(IpAddress.parse("fd00::1"));
        assertThat(IpAddress.tryParse("::ffff:10.0.0.1")).contains(IpAddress.parse("10.0.0.1"));
        assertThat(IpAddress.tryParse("fd00::1%eth0")).isEmpty();
    }

    @Test
    void accessorsOfTheOtherFamilyRefuseInsteadOfReturningZeros() {
        IpAddress v4 = IpAddress.parse("10.0.0.1");
        IpAddress v6 = IpAddress.parse("fd00::1");

        assertThatThrownBy(v4::hi).isInstanceOf(IllegalStateException.class).hasMessageContaining("10.0.0.1 is IPv4");
        assertThatThrownBy(v4::lo).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(v6::v4).isInstanceOf(IllegalStateException.class).hasMessageContaining("fd00::1 is IPv6");
    }

    @Test
    void ofV6KeepsAMappedAddressUntilUnmapped() {
        IpAddress mapped = IpAddress.ofV6(0, 0x0000_ffff_0a00_0001L);

        assertThat(mapped.isV4()).isFalse();
        assertThat(mapped.isV4Mapped()).isTrue();
        assertThat(mapped).hasToString("::ffff:10.0.0.1").isNotEqualTo(IpAddress.parse("10.0.0.1"));
        assertThat(mapped.unmap()).isEqualTo(IpAddress.parse("10.0.0.1"));
        assertThat(IpAddress.parse("fd00::1").unmap()).isEqualTo(IpAddress.parse("fd00::1"));
        assertThat(IpAddress.parse("10.0.0.1").isV4Mapped()).isFalse();
    }

    @Test
    void ipv4AndIpv6WithTheSameBitsAreDifferentAddresses() {
        IpAddress v4Zero = IpAddress.parse("0.0.0.0");
        IpAddress v6Zero = IpAddress.parse("::");

        assertThat(v4Zero).isNotEqualTo(v6Zero);
        assertThat(v4Zero.hashCode()).isNotEqualTo(v6Zero.hashCode());
        assertThat(IpAddress.parse("FD00:0::1"))
                .isEqualTo(IpAddress.parse("fd00::1"))
                .hasSameHashCodeAs(IpAddress.parse("fd00::1"));
    }

    @Test
    void ofInetAddressReadsTheBytesAndUnmaps() throws UnknownHostException {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 1};
        byte[] linkLocal = {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

        assertThat(IpAddress.of(InetAddress.getByAddress(new byte[] {(byte) 192, (byte) 168, 0, (byte) 255})))
                .isEqualTo(IpAddress.parse("192.168.0.255"));
        assertThat(IpAddress.of(Inet6Address.getByAddress(null, mapped, 0))).isEqualTo(IpAddress.parse("10.0.0.1"));
        assertThat(IpAddress.of(Inet6Address.getByAddress(null, linkLocal, 3)))
                .as("the scope id is dropped")
                .isEqualTo(IpAddress.parse("fe80::1"));
        assertThat(InetAddress.getByAddress(mapped)).as("the JDK unmaps too").isInstanceOf(Inet4Address.class);
    }

    /**
     * Canonical text round-trips and agrees with the JDK on random addresses. Half the groups are
     * zero so that runs of every length, and so the :: compression, get exercised.
     */
    @Test
    void canonicalTextRoundTripsAndAgreesWithTheJdkOnRandomAddresses() throws UnknownHostException {
        Random random = new Random(20_260_101L);
        for (int i = 0; i < 5_000; i++) {
            long hi = 0;
            long lo = 0;
            for (int g = 0; g < 4; g++) {
                hi = (hi << 16) | (random.nextBoolean() ? 0 : random.nextInt(1 << 16));
                lo = (lo << 16) | (random.nextBoolean() ? 0 : random.nextInt(1 << 16));
            }
            IpAddress v6 = IpAddress.ofV6(hi, lo);
            IpAddress v4 = IpAddress.ofV4(random.nextInt());

            assertThat(IpAddress.parse(v6.toString())).as(v6.toString()).isEqualTo(v6.unmap());
            assertThat(IpAddress.of(InetAddress.getByName(v6.toString())))
                    .as(v6.toString())
                    .isEqualTo(v6.unmap());
            assertThat(IpAddress.parse(v4.toString())).isEqualTo(v4);
            assertThat(InetAddress.getByName(v4.toString()).getHostAddress()).isEqualTo(v4.toString());
        }
    }

    @ParameterizedTest
    @CsvSource({"10.1.2.3", "0.0.0.0", "255.255.255.255", "::1", "2001:db8::8:800:200c:417a", "fe80::1", "::"})
    void toInetAddressGivesTheSameAddressAsTheJdkParsesFromTheText(String text) throws UnknownHostException {
        var ip = IpAddress.parse(text);
        var jdk = InetAddress.getByName(text);

        assertThat(ip.toInetAddress()).isEqualTo(jdk);
        assertThat(ip.toInetAddress()).isInstanceOf(ip.isV4() ? Inet4Address.class : Inet6Address.class);
        assertThat(IpAddress.of(ip.toInetAddress())).isEqualTo(ip);
    }

    @Test
    void toInetAddressOfAMappedAddressIsTheIpv4One() {
        var mapped = IpAddress.ofV6(0, 0x0000_ffff_0a01_0203L);

        assertThat(mapped.toInetAddress()).isInstanceOf(Inet4Address.class);
        assertThat(mapped.toInetAddress().getHostAddress()).isEqualTo("10.1.2.3");
    }
}
