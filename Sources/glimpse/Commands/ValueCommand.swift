import ArgumentParser

/// `glimpse value`: data values of every training point (and `glimpse value merge`).
struct ValueCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "value",
    abstract: "Value every training point: which ones help the model, which ones hurt it.",
    subcommands: [ValueRunCommand.self, ValueMergeCommand.self],
    defaultSubcommand: ValueRunCommand.self)
}
