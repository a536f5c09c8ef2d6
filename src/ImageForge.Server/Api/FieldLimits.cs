using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Server.Api;

/// <summary>
/// The per-field limits of the API's bodies (<see cref="InputLimits"/>, names as definitions allow them): every
/// field over its limit is one problem keyed by the field, and <see cref="ThrowIfAny"/> makes them one 400
/// validation problem (through <see cref="ApiExceptionHandler"/>) before anything is looked up or stored.
/// </summary>
internal sealed class FieldLimits
{
    private readonly List<InputProblem> _problems = [];

    /// <summary>A reason: at most <see cref="InputLimits.MaxReasonLength"/> characters.</summary>
    public FieldLimits Reason(string field, string? value) =>
        Text(field, value, InputLimits.MaxReasonLength);

    /// <summary>Any text: at most <paramref name="max"/> characters.</summary>
    public FieldLimits Text(string field, string? value, int max)
    {
        if (InputLimits.TooLong(value, max) is { } problem)
        {
            _problems.Add(new InputProblem("", 0, field, problem));
        }

        return this;
    }

    /// <summary>An image name, when given.</summary>
    public FieldLimits Image(string field, string? value) =>
        Name(field, value, NameRules.IsImageName, NameRules.ImageName);

    /// <summary>A channel name, when given.</summary>
    public FieldLimits Channel(string field, string? value) =>
        Name(field, value, NameRules.IsChannelName, NameRules.ChannelName);

    /// <summary>Throws the problems found, if any.</summary>
    public void ThrowIfAny()
    {
        if (_problems.Count > 0)
        {
            throw new InvalidInputException(_problems);
        }
    }

    // The value is not echoed: it may be anything, of any length.
    private FieldLimits Name(
        string field,
        string? value,
        Func<string, bool> valid,
        string expectation
    )
    {
        if (value is not null && !valid(value.Trim()))
        {
            _problems.Add(new InputProblem("", 0, field, $"expected {expectation}"));
        }

        return this;
    }
}
