package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code scripts/ambit-inpod-redirect.sh} in a fresh network namespace: it installs the rules ztunnel's
 * in-pod capture needs — for IPv4, and for IPv6 too when the pod has a global IPv6 address or
 * {@code AMBIT_IPV6=true} — a second run changes nothing, {@code --remove} takes both families out (twice is
 * fine), and a wrong argument or value is refused with what is accepted, before anything changes. (That the
 * rules capture traffic as they should is {@link InPodCaptureTest}'s and {@code InPodDualStackCaptureTest}'s
 * job.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedirectScriptTest {
    NetnsLab lab;
    String script;

    @BeforeEach
    void start() throws Exception {
        NetnsLab.require("ip", "iptables", "iptables-save", "ip6tables", "ip6tables-save");
        script = NetnsLab.script().toString();
        lab = new NetnsLab();
        lab.add("pod");
        lab.add("peer");
        lab.link("pod", "eth0", "10.190.9.2/24", "peer", "eth0", "10.190.9.1/24");
    }

    @AfterEach
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    /** The pod as a dual-stack CNI would set it up: an IPv6 ULA next to the IPv4 address. */
    void dualStack() throws Exception {
        lab.address("pod", "eth0", "fd00:a6b1:9::2/64");
    }

    /** One family's rules ({@code iptables-save} or {@code ip6tables-save}) without packet counters. */
    String rules(String save) throws Exception {
        return lab.in("pod", save)
                .out()
                .lines()
                .filter(l -> !l.startsWith("#"))
                .map(l -> l.replaceAll("\\[\\d+:\\d+]", "[-]"))
                .reduce("", (a, b) -> a + b + "\n");
    }

    /**
     * One family's policy routing and routes ({@code -4} or {@code -6}), without the kernel's own routes: those
     * come and go by themselves (a link-local address's, once its duplicate detection ends).
     */
    String routing(String family) throws Exception {
        return lab.in("pod", "ip", family, "rule").out()
                + lab.in("pod", "ip", family, "route", "show", "table", "all")
                        .out()
                        .lines()
                        .filter(l -> !l.contains("proto kernel"))
                        .reduce("", (a, b) -> a + b + "\n");
    }

    /** Everything the script may touch, both families. */
    String state() throws Exception {
        return rules("iptables-save") + routing("-4") + rules("ip6tables-save") + routing("-6");
    }

    String install(String... env) throws Exception {
        return lab.in("pod", List.of(env), script).out();
    }

    @Test
    void installsTheIpv4CaptureRulesOnceAndRemovesThemAll() throws Exception {
        String before = state();
        install();
        String installed = state();
        assertThat(rules("iptables-save"))
                .contains("-A PREROUTING -j AMBIT_PRERT")
                .contains("-A AMBIT_PRERT -m mark --mark 0x539/0xfff -j CONNMARK --set-xmark 0x111/0xfff")
                .contains("-A AMBIT_PRERT -s 169.254.7.127/32 -p tcp -j ACCEPT")
                .containsPattern("--dport 15008 -m mark ! --mark 0x539/0xfff -j TPROXY --on-port 15008 .*--tproxy-mark"
                        + " 0x111/0xfff")
                .containsPattern("! -d 127.0.0.1/32 -p tcp -m mark ! --mark 0x539/0xfff -j TPROXY --on-port 15006")
                .contains("-A AMBIT_OUTPUT -m connmark --mark 0x111/0xfff -j CONNMARK --restore-mark")
                .contains("-A AMBIT_OUTPUT -d 169.254.7.127/32 -p tcp -j ACCEPT")
                .contains("-A AMBIT_OUTPUT ! -d 127.0.0.1/32 -o lo -j ACCEPT")
                .contains("-A AMBIT_OUTPUT ! -d 127.0.0.1/32 -p tcp -m mark ! --mark 0x539/0xfff -j REDIRECT"
                        + " --to-ports 15001");
        assertThat(routing("-4")).contains("fwmark 0x111/0xfff lookup 100").contains("local default dev lo table 100");
        // no global IPv6 address (only the link-local one): IPv6 stays as it was
        assertThat(rules("ip6tables-save")).doesNotContain("AMBIT");
        assertThat(routing("-6")).doesNotContain("0x111").doesNotContain("table 100");

        install();
        assertThat(state()).as("a second run changes nothing").isEqualTo(installed);

        lab.in("pod", script, "--remove");
        String removed = state();
        assertThat(removed).doesNotContain("AMBIT").doesNotContain("0x111").doesNotContain("table 100");
        assertThat(removed.lines().filter(l -> l.startsWith("-A"))).isEmpty();
        lab.in("pod", script, "--remove"); // nothing left to remove: still fine
        assertThat(before.lines().filter(l -> l.startsWith("-A"))).isEmpty();
    }

    @Test
    void aDualStackPodGetsTheSameRulesForIpv6OnceAndRemoveTakesOutBoth() throws Exception {
        dualStack();
        install();
        String installed = state();
        String v6 = rules("ip6tables-save");
        assertThat(v6)
                .contains("-A PREROUTING -j AMBIT_PRERT")
                .contains("-A AMBIT_PRERT -m mark --mark 0x539/0xfff -j CONNMARK --set-xmark 0x111/0xfff")
                .contains("-A AMBIT_PRERT -s fd16:9254:7127:1337:ffff:ffff:ffff:ffff/128 -p tcp -j ACCEPT")
                .contains("-A AMBIT_PRERT ! -d ::1/128 -i lo -p tcp -j ACCEPT")
                .containsPattern("--dport 15008 -m mark ! --mark 0x539/0xfff -j TPROXY --on-port 15008 .*--tproxy-mark"
                        + " 0x111/0xfff")
                .containsPattern("! -d ::1/128 -p tcp -m mark ! --mark 0x539/0xfff -j TPROXY --on-port 15006")
                .contains("-A AMBIT_OUTPUT -m connmark --mark 0x111/0xfff -j CONNMARK --restore-mark")
                .contains("-A AMBIT_OUTPUT ! -o lo -p udp -m udp --dport 53 -m mark ! --mark 0x539/0xfff -j REDIRECT"
                        + " --to-ports 15053")
                .contains("-A AMBIT_OUTPUT ! -d ::1/128 -p tcp -m tcp --dport 53 -m mark ! --mark 0x539/0xfff"
                        + " -j REDIRECT --to-ports 15053")
                .contains("-A AMBIT_OUTPUT -d fd16:9254:7127:1337:ffff:ffff:ffff:ffff/128 -p tcp -j ACCEPT")
                .contains("-A AMBIT_OUTPUT ! -d ::1/128 -o lo -j ACCEPT")
                .contains("-A AMBIT_OUTPUT ! -d ::1/128 -p tcp -m mark ! --mark 0x539/0xfff -j REDIRECT"
                        + " --to-ports 15001");
        // the same rules as IPv4's, family for family
        assertThat(count(v6, "-A AMBIT_")).isEqualTo(count(rules("iptables-save"), "-A AMBIT_"));
        assertThat(routing("-6")).contains("fwmark 0x111/0xfff lookup 100").contains("local default dev lo table 100");
        assertThat(rules("iptables-save")).contains("REDIRECT --to-ports 15001");

        install();
        assertThat(state()).as("a second run changes nothing").isEqualTo(installed);

        lab.in("pod", script, "--remove");
        String removed = state();
        assertThat(removed).doesNotContain("AMBIT").doesNotContain("0x111").doesNotContain("table 100");
        lab.in("pod", List.of("AMBIT_IPV6=false"), script, "--remove"); // removing ignores the setting: fine
        assertThat(state()).isEqualTo(removed);
    }

    @Test
    void ambitIpv6SaysWhetherIpv6IsCapturedAndAReinstallWithFalseTakesItsRulesOut() throws Exception {
        dualStack();
        install("AMBIT_IPV6=false");
        assertThat(rules("ip6tables-save")).doesNotContain("AMBIT");
        assertThat(routing("-6")).doesNotContain("table 100");
        assertThat(rules("iptables-save")).contains("REDIRECT --to-ports 15001");

        install(); // auto: the pod has a ULA
        assertThat(rules("ip6tables-save")).contains("REDIRECT --to-ports 15001");
        install("AMBIT_IPV6=false");
        assertThat(rules("ip6tables-save")).as("IPv6 rules of an earlier run").doesNotContain("AMBIT");
        assertThat(routing("-6")).doesNotContain("0x111").doesNotContain("table 100");
        lab.in("pod", script, "--remove");

        // no global IPv6 address, but asked for: installed anyway (an address that comes later is then covered)
        lab.in("pod", "ip", "-6", "addr", "flush", "dev", "eth0", "scope", "global");
        install("AMBIT_IPV6=true");
        assertThat(rules("ip6tables-save")).contains("REDIRECT --to-ports 15001");
        assertThat(routing("-6")).contains("fwmark 0x111/0xfff lookup 100");
    }

    @Test
    void aWrongArgumentOrValueIsRefusedNamingWhatIsAcceptedBeforeAnythingChanges() throws Exception {
        var r = lab.exec("pod", Duration.ofSeconds(10), script, "--bogus");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("unknown argument \"--bogus\" (expected: nothing, --remove or --help)");
        assertThat(lab.exec("pod", Duration.ofSeconds(10), script, "--help").out())
                .contains("ip netns exec POD scripts/ambit-inpod-redirect.sh --remove")
                .contains("AMBIT_IPV6=false");

        dualStack();
        String before = state();
        var badValue = lab.exec("pod", Duration.ofSeconds(10), "env", "AMBIT_IPV6=yes", script);
        assertThat(badValue.exit()).isEqualTo(2);
        assertThat(badValue.out()).contains("AMBIT_IPV6 is \"yes\" (expected: auto, true or false)");
        assertThat(state()).isEqualTo(before);

        // IPv6 wanted but no ip6tables: refused before the IPv4 rules go in (no half-captured pod)
        var noTool = lab.exec("pod", Duration.ofSeconds(10), "env", "IP6TABLES=/nonexistent/ip6tables", script);
        assertThat(noTool.exit()).isEqualTo(2);
        assertThat(noTool.out())
                .contains("IPv6 capture needs \"/nonexistent/ip6tables\", which is not installed")
                .contains("AMBIT_IPV6=false leaves IPv6 alone");
        assertThat(state()).isEqualTo(before);

        // IPv6 asked for where it is off: refused, naming the setting, before the IPv4 rules go in
        lab.in("pod", "sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=1");
        String off = state();
        var ipv6Off = lab.exec("pod", Duration.ofSeconds(10), "env", "AMBIT_IPV6=true", script);
        assertThat(ipv6Off.exit()).isEqualTo(2);
        assertThat(ipv6Off.out())
                .contains("AMBIT_IPV6=true but IPv6 is disabled in this network namespace")
                .contains("net.ipv6.conf.lo.disable_ipv6");
        assertThat(state()).isEqualTo(off);
    }

    private static long count(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).count();
    }
}
