package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code scripts/ambit-inpod-redirect.sh} in a fresh network namespace: it installs the rules ztunnel's
 * in-pod capture needs, a second run changes nothing, {@code --remove} takes everything out (twice is
 * fine), and a wrong argument is refused with what is accepted. (That the rules capture traffic as they
 * should is {@link InPodCaptureTest}'s job.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedirectScriptTest {
    NetnsLab lab;
    String script;

    @BeforeEach
    void start() throws Exception {
        Optional<String> missing = NetnsLab.unavailable("ip", "iptables", "iptables-save");
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.orElseThrow());
        script = InPodCaptureTest.locateScript().toString();
        lab = new NetnsLab();
        lab.add("pod");
    }

    @AfterEach
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    /** The namespace's rules, routes and policy routing, without packet counters. */
    String state() throws Exception {
        String rules = lab.in("pod", "iptables-save")
                .out()
                .lines()
                .filter(l -> !l.startsWith("#"))
                .map(l -> l.replaceAll("\\[\\d+:\\d+]", "[-]"))
                .reduce("", (a, b) -> a + b + "\n");
        return rules
                + lab.in("pod", "ip", "rule").out()
                + lab.in("pod", "ip", "route", "show", "table", "all").out();
    }

    @Test
    void installsTheCaptureRulesOnceAndRemovesThemAll() throws Exception {
        String before = state();
        lab.in("pod", script);
        String installed = state();
        assertThat(installed)
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
                        + " --to-ports 15001")
                .contains("fwmark 0x111/0xfff lookup 100")
                .contains("local default dev lo table 100");

        lab.in("pod", script);
        assertThat(state()).as("a second run changes nothing").isEqualTo(installed);

        lab.in("pod", script, "--remove");
        String removed = state();
        assertThat(removed).doesNotContain("AMBIT").doesNotContain("0x111").doesNotContain("table 100");
        assertThat(removed.lines().filter(l -> l.startsWith("-A"))).isEmpty();
        lab.in("pod", script, "--remove"); // nothing left to remove: still fine
        assertThat(before.lines().filter(l -> l.startsWith("-A"))).isEmpty();
    }

    @Test
    void aWrongArgumentIsRefusedNamingWhatIsAccepted() throws Exception {
        var r = lab.exec("pod", Duration.ofSeconds(10), script, "--bogus");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("unknown argument \"--bogus\" (expected: nothing, --remove or --help)");
        assertThat(lab.exec("pod", Duration.ofSeconds(10), script, "--help").out())
                .contains("ip netns exec POD scripts/ambit-inpod-redirect.sh --remove");
    }
}
