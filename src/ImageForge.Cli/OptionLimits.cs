using System.CommandLine;
using ImageForge.Core.Inputs;

namespace ImageForge.Cli;

/// <summary>The limits of texts the commands store (<see cref="InputLimits"/>), as the API has them.</summary>
internal static class OptionLimits
{
    /// <summary>
    /// Refuses a value longer than <see cref="InputLimits.MaxReasonLength"/> while parsing: exit 2 naming the
    /// option, before anything is opened or written.
    /// </summary>
    public static Option<T> WithReasonLimit<T>(this Option<T> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (
                InputLimits.TooLong(
                    result.GetValueOrDefault<T>() as string,
                    InputLimits.MaxReasonLength
                ) is
                { } problem
            )
            {
                result.AddError($"{option.Name}: {problem}");
            }
        });
        return option;
    }
}
