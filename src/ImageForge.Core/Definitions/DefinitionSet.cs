using ImageForge.Core.Errors;

namespace ImageForge.Core.Definitions;

/// <summary>
/// The result of loading definitions and baselines: the valid ones and every problem found. A definition or baseline
/// with any problem (in its own file or in what it refers to) is left out of <see cref="Images"/> or
/// <see cref="Baselines"/>, so a long-running host can go on with the valid ones.
/// </summary>
public sealed class DefinitionSet
{
    internal DefinitionSet(
        IReadOnlyList<ImageDefinition> images,
        IReadOnlyList<Baseline> baselines,
        IReadOnlyList<InputProblem> problems
    )
    {
        Images = images;
        Baselines = baselines;
        Problems = problems;
    }

    /// <summary>Valid image definitions, ordered by name.</summary>
    public IReadOnlyList<ImageDefinition> Images { get; }

    /// <summary>Valid baselines, ordered by name.</summary>
    public IReadOnlyList<Baseline> Baselines { get; }

    /// <summary>Every problem found, ordered by file, then line.</summary>
    public IReadOnlyList<InputProblem> Problems { get; }

    /// <summary>True when no problem was found.</summary>
    public bool IsValid => Problems.Count == 0;

    /// <summary>The valid image definition named <paramref name="name"/>, or null.</summary>
    public ImageDefinition? FindImage(string name) =>
        Images.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));

    /// <summary>The valid baseline named <paramref name="name"/>, or null.</summary>
    public Baseline? FindBaseline(string name) =>
        Baselines.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal));

    /// <summary>Throws <see cref="InvalidInputException"/> (exit code 2) carrying every problem, if there is any.</summary>
    public void ThrowIfInvalid()
    {
        if (Problems.Count > 0)
        {
            throw new InvalidInputException(Problems);
        }
    }
}
