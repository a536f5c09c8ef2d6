using ImageForge.Core.Anomalies;
using ImageForge.Core.Facts;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Anomalies;

/// <summary>
/// The parent's change the anomaly collector looks up: the base of the newest build of the window against this
/// build's, when both were made from the same inputs.
/// </summary>
public sealed class BaseChangeSpecs
{
    private const string NewSetuid = "/usr/bin/newgrp2 77aa";

    private static FactSnapshot Built(string version, string key, Facts image, Facts root) =>
        image.As(version).Snapshot() with
        {
            BaseKey = key,
            Base = root.As(version).Snapshot(),
        };

    private static IReadOnlyList<Anomaly> Detect(
        FactSnapshot current,
        IReadOnlyList<FactSnapshot> history
    )
    {
        var parent = AnomalyCollector.BaseChange(current, history, "debian/bullseye");
        return AnomalyDetector.Detect(
            current,
            history,
            AnomalySettings.Default,
            new DateOnly(2025, 3, 4),
            parent
        );
    }

    [Fact]
    public void A_setuid_file_the_base_brought_under_the_same_inputs_is_inherited_and_the_change_is_described()
    {
        var history = new[] { Built("2025.03.01.1", "k1", new Facts(), new Facts()) };
        var current = Built(
            "2025.03.04.1",
            "k1",
            new Facts().With(FactNames.SetuidFile, NewSetuid),
            new Facts().With(FactNames.SetuidFile, NewSetuid)
        );

        var parent = AnomalyCollector.BaseChange(current, history, "debian/bullseye");
        var anomaly = Detect(current, history).ShouldHaveSingleItem();

        parent!.Description.ShouldBe(
            "base debian/bullseye made again from the same inputs since 2025.03.01.1, with other contents"
        );
        anomaly.Subject.ShouldBe(NewSetuid);
        anomaly.Inherited.ShouldBeTrue();
        anomaly.Raised.ShouldBeFalse();
    }

    [Fact]
    public void A_change_the_base_does_not_show_is_raised_even_when_the_base_changed()
    {
        var history = new[] { Built("2025.03.01.1", "k1", new Facts(), new Facts()) };
        var current = Built(
            "2025.03.04.1",
            "k1",
            new Facts()
                .With(FactNames.SetuidFile, NewSetuid)
                .With(FactNames.EnabledUnit, "x.service"),
            new Facts().With(FactNames.SetuidFile, NewSetuid)
        );

        Detect(current, history)
            .Where(a => a.Raised)
            .ShouldHaveSingleItem()
            .Subject.ShouldBe("x.service");
    }

    [Fact]
    public void New_inputs_inherit_nothing_what_the_definition_added_is_raised()
    {
        // A package added to the definition makes another base (another key), with what the package brings.
        var history = new[] { Built("2025.03.01.1", "k1", new Facts(), new Facts()) };
        var current = Built(
            "2025.03.04.1",
            "k2",
            new Facts().With(FactNames.SetuidFile, NewSetuid),
            new Facts().With(FactNames.SetuidFile, NewSetuid)
        );

        AnomalyCollector.BaseChange(current, history, "debian/bullseye").ShouldBeNull();
        Detect(current, history).ShouldHaveSingleItem().Raised.ShouldBeTrue();
    }

    [Fact]
    public void The_same_base_or_a_history_without_base_facts_is_no_change()
    {
        var same = Built("2025.03.04.1", "k1", new Facts(), new Facts());
        var withoutBase = new Facts().As("2025.03.01.1").Snapshot();

        AnomalyCollector
            .BaseChange(same, [Built("2025.03.01.1", "k1", new Facts(), new Facts())], "b")
            .ShouldBeNull();
        AnomalyCollector.BaseChange(same, [withoutBase], "b").ShouldBeNull();
        AnomalyCollector.BaseChange(same, [], "b").ShouldBeNull();
        AnomalyCollector.BaseChange(new Facts().Snapshot(), [same], "b").ShouldBeNull();
    }

    [Fact]
    public void Only_the_newest_build_of_the_window_is_compared_with()
    {
        // The window's older build was on the old base; the newest was already on the new one.
        var root = new Facts().With(FactNames.SetuidFile, NewSetuid);
        var history = new[]
        {
            Built("2025.03.01.1", "k1", new Facts(), new Facts()),
            Built("2025.03.02.1", "k1", new Facts().With(FactNames.SetuidFile, NewSetuid), root),
        };

        AnomalyCollector
            .BaseChange(
                Built(
                    "2025.03.04.1",
                    "k1",
                    new Facts().With(FactNames.SetuidFile, NewSetuid),
                    root
                ),
                history,
                "b"
            )
            .ShouldBeNull();
    }

    [Fact]
    public void The_base_digest_is_one_catalog_row_that_tells_bases_apart_and_is_not_a_base_set()
    {
        var root = new Facts().With(FactNames.SetuidFile, NewSetuid);
        var built = Built("2025.03.04.1", "k1", new Facts(), root);
        var again = Built("2025.03.05.1", "k1", new Facts(), root);
        var other = Built("2025.03.06.1", "k1", new Facts(), new Facts());

        var (sets, metrics) = built.Flatten();
        var back = FactSnapshot.Unflatten(built.Version, sets, metrics);

        sets[FactNames.BaseDigest].ShouldBe([built.Base!.Digest()]);
        again.Base!.Digest().ShouldBe(built.Base.Digest(), "the version is not part of it");
        other.Base!.Digest().ShouldNotBe(built.Base.Digest());
        back.Base!.Sets.Keys.ShouldNotContain("digest");
        back.Base.Digest().ShouldBe(built.Base.Digest());
    }
}
