namespace MtlHost.HotReload;

/// <summary>What a change on disk means for one plugin.</summary>
internal enum PlannedChangeKind
{
    /// <summary>Files of a plugin not in the run: load it and let its tasks join.</summary>
    Add,

    /// <summary>New files of a plugin in the run: load the new version and swap it in.</summary>
    Replace,

    /// <summary>A plugin in the run whose files are gone: its tasks leave the run.</summary>
    Remove,

    /// <summary>Files gone of a plugin that is not in the run (it was quarantined): only its standing changes.</summary>
    Forget,
}
