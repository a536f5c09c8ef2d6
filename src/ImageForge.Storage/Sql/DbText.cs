using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace ImageForge.Storage.Sql;

/// <summary>How values the database has no common type for are written as text.</summary>
internal static class DbText
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>ISO-8601 in UTC with milliseconds; finer precision is dropped. Text order is time order.</summary>
    public static string FromTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static string? FromTime(DateTimeOffset? time) => time is { } t ? FromTime(t) : null;

    public static DateTimeOffset ToTime(string text) =>
        DateTimeOffset.ParseExact(
            text,
            TimeFormat,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal
        );

    public static DateTimeOffset? ToTimeOrNull(string? text) => text is null ? null : ToTime(text);

    /// <summary>Lower case, words joined by hyphens: <c>BaseUpdate</c> is <c>base-update</c>.</summary>
    public static string FromEnum<T>(T value)
        where T : struct, Enum => EnumNames<T>.ToText[value];

    public static T ToEnum<T>(string text, string column)
        where T : struct, Enum =>
        EnumNames<T>.FromText.TryGetValue(text, out var value)
            ? value
            : throw new CatalogException(
                $"The catalog holds '{text}' in {column}, which this ImageForge does not know; it was probably "
                    + "written by a newer ImageForge. Upgrade ImageForge."
            );

    /// <summary>Build ids are the row numbers; anything else names no build.</summary>
    public static bool TryParseId(string id, out long value) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    public static string FromId(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static class EnumNames<T>
        where T : struct, Enum
    {
        public static readonly FrozenDictionary<T, string> ToText = Enum.GetValues<T>()
            .ToFrozenDictionary(v => v, v => Hyphenate(v.ToString()));

        public static readonly FrozenDictionary<string, T> FromText = ToText.ToFrozenDictionary(
            p => p.Value,
            p => p.Key,
            StringComparer.Ordinal
        );

        private static string Hyphenate(string name)
        {
            var text = new StringBuilder(name.Length + 4);
            foreach (var c in name)
            {
                if (char.IsUpper(c) && text.Length > 0)
                {
                    text.Append('-');
                }

                text.Append(char.ToLowerInvariant(c));
            }

            return text.ToString();
        }
    }
}
