package io.ambit.policy.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class CidrTest {

    private static final String EXPECTED = "(expected an IP address, or address/length like 10.0.0.0/8 or fd00::/8)";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            a plain IPv4 address is a /32                                | 10.0.0.1                            | 10.0.0.1/32            | true
            a plain IPv6 address is a /128                               | fd00::1                             | fd00::1/128            | false
            an IPv4 block parses                                         | 10.0.0.0/8                          | 10.0.0.0/8             | true
            an IPv6 block parses                                         | fd00::/8                            | fd00::/8               | false
            the whole IPv4 space is 0.0.0.0/0                            | 0.0.0.0/0                           | 0.0.0.0/0              | true
            the whole IPv6 space is ::/0                                 | ::/0                                | ::/0                   | false
            IPv4 host bits are accepted and cleared                      | 10.1.2.3/24                         | 10.1.2.0/24            | true
            host bits under /0 are all cleared                           | 10.1.2.3/0                          | 0.0.0.0/0              | true
            a /32 keeps every bit                                        | 10.1.2.3/32                         | 10.1.2.3/32            | true
            a /31 clears only the last bit                               | 10.1.2.3/31                         | 10.1.2.2/31            | true
            a /1 keeps only the top bit                                  | 255.255.255.255/1                   | 128.0.0.0/1            | true
            IPv6 host bits are accepted and cleared                      | fd00::1/64                          | fd00::/64              | false
            a /127 clears only the last bit                              | 2001:db8::ffff/127                  | 2001:db8::fffe/127     | false
            a /65 keeps one bit of the low 64                            | 2001:db8::ffff:ffff:ffff:ffff/65    | 2001:db8:0:0:8000::/65 | false
            a /63 clears one bit of the high 64                          | ffff:ffff:ffff:ffff:ffff::/63       | ffff:ffff:ffff:fffe::/63 | false
            a /128 keeps every bit                                       | fd00::1/128                         | fd00::1/128            | false
            a mapped block stays an IPv6 block                           | ::ffff:10.0.0.0/104                 | ::ffff:10.0.0.0/104    | false
            a plain mapped address stays an IPv6 /128                    | ::ffff:10.0.0.1                     | ::ffff:10.0.0.1/128    | false
            an embedded dotted quad is read as IPv6 bits                 | 64:ff9b::192.0.2.0/120              | 64:ff9b::c000:200/120  | false
            """)
    void parsesBlocks(String name, String text, String canonical, boolean v4) {
        Cidr cidr = Cidr.parse(text);

        assertThat(cidr).hasToString(canonical);
        assertThat(cidr.isV4()).isEqualTo(v4);
        assertThat(Cidr.parse(canonical)).isEqualTo(cidr);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            an IPv4 prefix length over 32 is rejected                    | 10.0.0.0/33         | prefix length 33 is over 32 for IPv4
            an IPv6 prefix length over 128 is rejected                   | fd00::/129          | prefix length 129 is over 128 for IPv6
            an IPv6-sized length on an IPv4 address is rejected          | 10.0.0.0/64         | prefix length 64 is over 32 for IPv4
            a length that overflows an int is rejected                   | 10.0.0.0/4294967304 | prefix length 4294967304 is over 32 for IPv4
            a missing length after the slash is rejected                 | 10.0.0.0/           | the prefix length after '/' is missing
            a missing address before the slash is rejected               | /8                  | the address is empty
            a length with a leading zero is rejected                     | 10.0.0.0/08         | prefix length "08" has a leading zero
            a length of 00 is rejected                                   | 10.0.0.0/00         | prefix length "00" has a leading zero
            a length with a plus sign is rejected                        | 10.0.0.0/+8         | prefix length "+8" is not a decimal number
            a negative length is rejected                                | 10.0.0.0/-1         | prefix length "-1" is not a decimal number
            a dotted netmask is not a length                             | 10.0.0.0/255.0.0.0  | prefix length "255.0.0.0" is not a decimal number
            a second slash is rejected                                   | 10.0.0.0/8/9        | prefix length "8/9" is not a decimal number
            a letter as length is rejected                               | 10.0.0.0/a          | prefix length "a" is not a decimal number
            a space after the slash is rejected                          | '10.0.0.0/ 8'       | prefix length " 8" is not a decimal number
            a trailing space is rejected                                 | '10.0.0.0/8 '       | prefix length "8 " is not a decimal number
            a space before the slash is rejected                         | '10.0.0.0 /8'       | whitespace is not allowed
            a zone id is rejected                                        | fe80::1%eth0/64     | zone ids like %eth0 are not allowed
            brackets are rejected                                        | [fd00::]/8          | brackets are not allowed
            a malformed address is rejected                              | 10.0.0.300/8        | IPv4 octet 300 is over 255
            a leading zero in the address is rejected                    | 010.0.0.0/8         | IPv4 octet "010" has a leading zero
            a host name is rejected                                      | example.com/24      | host names are never resolved
            a wildcard is rejected                                       | *                   | unexpected '*' at offset 0
            an empty string is rejected                                  | ''                  | the address is empty
            """)
    void rejectsMalformedBlocks(String name, String text, String reason) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Cidr.parse(text))
                .withMessageStartingWith(IpAddress.quote(text) + " is not a CIDR block: ")
                .withMessageContaining(reason)
                .withMessageEndingWith(EXPECTED);
    }

    @Test
    void theMessageNamesTheTextTheReasonAndWhatWasExpected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Cidr.parse("10.0.0.0/33"))
                .withMessage("\"10.0.0.0/33\" is not a CIDR block: prefix length 33 is over 32 for IPv4 " + EXPECTED);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            a /8 contains its first address                              | 10.0.0.0/8          | 10.0.0.0                  | true
            a /8 contains its last address                               | 10.0.0.0/8          | 10.255.255.255            | true
            a /8 does not contain the address after it                   | 10.0.0.0/8          | 11.0.0.0                  | false
            a /8 does not contain the address before it                  | 10.0.0.0/8          | 9.255.255.255             | false
            0.0.0.0/0 contains the broadcast address                     | 0.0.0.0/0           | 255.255.255.255           | true
            0.0.0.0/0 contains no IPv6 address                           | 0.0.0.0/0           | ::1                       | false
            ::/0 contains any IPv6 address                               | ::/0                | fd00::1                   | true
            ::/0 contains no IPv4 address                                | ::/0                | 10.0.0.1                  | false
            a /32 contains its address                                   | 10.0.0.1/32         | 10.0.0.1                  | true
            a /32 does not contain its neighbour                         | 10.0.0.1/32         | 10.0.0.2                  | false
            a /128 contains its address                                  | fd00::1/128         | fd00::1                   | true
            a /128 does not contain its neighbour                        | fd00::1/128         | fd00::2                   | false
            a /64 contains its last address                              | 2001:db8::/64       | 2001:db8::ffff:ffff:ffff:ffff | true
            a /64 does not contain the next /64                          | 2001:db8::/64       | 2001:db8:0:1::            | false
            a /65 contains the last address of its half                  | 2001:db8::/65       | 2001:db8::7fff:ffff:ffff:ffff | true
            a /65 does not contain the other half                        | 2001:db8::/65       | 2001:db8::8000:0:0:0      | false
            a block written with host bits contains its whole range      | 10.1.2.3/24         | 10.1.2.200                | true
            a mapped block does not contain the IPv4 address             | ::ffff:10.0.0.0/104 | 10.0.0.1                  | false
            an IPv4 block contains a mapped address, which parses as IPv4 | 10.0.0.0/8         | ::ffff:10.0.0.1           | true
            """)
    void containsIsAMaskedComparisonWithinOneFamily(String name, String cidr, String address, boolean expected) {
        assertThat(Cidr.parse(cidr).contains(IpAddress.parse(address))).isEqualTo(expected);
    }

    @Test
    void containsNullIsFalse() {
        assertThat(Cidr.parse("0.0.0.0/0").contains(null)).isFalse();
    }

    @Test
    void theConstructorChecksTheLengthAgainstTheFamily() {
        IpAddress v4 = IpAddress.parse("10.0.0.0");
        IpAddress v6 = IpAddress.parse("fd00::");

        assertThatIllegalArgumentException()
                .isThrownBy(() -> new Cidr(v4, 33))
                .withMessage("prefixLength: 33 (expected 0..32 for IPv4 10.0.0.0)");
        assertThatIllegalArgumentException().isThrownBy(() -> new Cidr(v4, -1));
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new Cidr(v6, 129))
                .withMessage("prefixLength: 129 (expected 0..128 for IPv6 fd00::)");
        assertThat(new Cidr(v6, 128)).hasToString("fd00::/128");
        assertThatNullPointerException().isThrownBy(() -> new Cidr(null, 0));
        assertThatNullPointerException().isThrownBy(() -> Cidr.parse(null));
    }

    @Test
    void blocksThatDifferOnlyInHostBitsAreEqual() {
        Cidr written = new Cidr(IpAddress.parse("10.1.2.3"), 16);

        assertThat(written.address()).isEqualTo(IpAddress.parse("10.1.0.0"));
        assertThat(written).isEqualTo(Cidr.parse("10.1.0.0/16")).hasSameHashCodeAs(Cidr.parse("10.1.255.255/16"));
        assertThat(written).isNotEqualTo(Cidr.parse("10.1.0.0/17"));
    }

    @Test
    void ofMakesAHostBlock() {
        assertThat(Cidr.of(IpAddress.parse("10.0.0.1"))).isEqualTo(Cidr.parse("10.0.0.1/32"));
        assertThat(Cidr.of(IpAddress.parse("fd00::1"))).isEqualTo(Cidr.parse("fd00::1/128"));
    }
}
